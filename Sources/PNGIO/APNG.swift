// Animated PNG (APNG) writer in pure Swift: libpng encodes each frame, we re-chunk them.
//
// Layout written (APNG 1.0): IHDR, acTL, [ancillary chunks of frame 0], fcTL(0), IDAT…,
// then per further frame fcTL(n), fdAT(n+1)…, and IEND. Sequence numbers run over fcTL and
// fdAT together. Viewers without APNG support show frame 0, which is a normal PNG image.

/// Writes animated PNGs (turntables) from equally sized 8-bit frames.
///
/// ```swift
/// let frames = (0..<24).map { _ in PNGImage(width: 64, height: 64, channels: 3, filling: 255) }
/// try APNG.write(frames: frames, delayMs: 80, to: "turntable.png")   // loops forever
/// ```
public enum APNG {
    /// Writes `frames` as an animated PNG (atomically, like ``PNG`` writes).
    ///
    /// - Parameters:
    ///   - delayMs: how long each frame shows, 0...65535 milliseconds.
    ///   - loops: how many times the animation plays; 0 = forever.
    /// - Throws: ``PNGError/invalidImage(message:)`` for no frames, frames of different sizes or
    ///   channel counts, or an out-of-range delay; ``PNGError/write(path:message:)`` on I/O failure.
    public static func write(frames: [PNGImage], delayMs: Int, loops: Int = 0, to path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try encode(frames: frames, delayMs: delayMs, loops: loops)
        } catch PNGError.write(_, let message) {
            throw PNGError.write(path: path, message: message)
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// The bytes of an animated PNG holding `frames` (see ``write(frames:delayMs:loops:to:)``).
    ///
    /// ```swift
    /// let bytes = try APNG.encode(frames: frames, delayMs: 100)
    /// let first = try PNG.decode(bytes)     // plain decoders see frame 0
    /// ```
    public static func encode(frames: [PNGImage], delayMs: Int, loops: Int = 0) throws -> [UInt8] {
        guard let first = frames.first else {
            throw PNGError.invalidImage(message: "an APNG needs at least one frame")
        }
        guard frames.allSatisfy({ ($0.width, $0.height, $0.channels) == (first.width, first.height, first.channels) })
        else { throw PNGError.invalidImage(message: "APNG frames must share one size and channel count") }
        guard let delay = UInt16(exactly: delayMs) else {
            throw PNGError.invalidImage(message: "frame delay \(delayMs) ms is outside 0...65535")
        }
        guard let plays = UInt32(exactly: loops) else {
            throw PNGError.invalidImage(message: "loop count \(loops) is outside 0...\(UInt32.max)")
        }

        var out: [PNGChunk] = []
        var sequence: UInt32 = 0
        for (index, frame) in frames.enumerated() {
            let chunks = try PNGChunks.parse(PNG.encode(frame))
            let firstData = chunks.firstIndex { $0.type == "IDAT" } ?? chunks.count
            if index == 0 {
                var control: [UInt8] = []
                PNGChunks.appendUInt32(UInt32(frames.count), to: &control)
                PNGChunks.appendUInt32(plays, to: &control)
                out.append(chunks[0])                                            // IHDR
                out.append(PNGChunk(type: "acTL", data: control))
                out += chunks[1..<firstData]                                     // sRGB, gAMA …
            }
            out.append(frameControl(sequence: sequence, width: first.width, height: first.height, delayMs: delay))
            sequence += 1
            for chunk in chunks where chunk.type == "IDAT" {
                if index == 0 {
                    out.append(chunk)
                } else {
                    var data: [UInt8] = []
                    PNGChunks.appendUInt32(sequence, to: &data)
                    out.append(PNGChunk(type: "fdAT", data: data + chunk.data))
                    sequence += 1
                }
            }
        }
        out.append(PNGChunk(type: "IEND", data: []))
        return PNGChunks.serialize(out)
    }

    /// An `fcTL` chunk for a full-canvas frame that replaces the previous one.
    private static func frameControl(sequence: UInt32, width: Int, height: Int, delayMs: UInt16) -> PNGChunk {
        var data: [UInt8] = []
        for v in [sequence, UInt32(width), UInt32(height), 0, 0] { PNGChunks.appendUInt32(v, to: &data) }
        PNGChunks.appendUInt16(delayMs, to: &data)        // delay numerator
        PNGChunks.appendUInt16(1000, to: &data)           // delay denominator: milliseconds
        data += [0, 0]                                    // dispose: none, blend: source
        return PNGChunk(type: "fcTL", data: data)
    }
}
