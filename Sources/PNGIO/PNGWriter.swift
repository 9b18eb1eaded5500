// Encoding 8-bit images as PNG (libpng simplified API) and writing them atomically.

import CPNG

extension PNG {
    /// Writes an 8-bit image (grey, grey + alpha, RGB or RGBA) as a PNG file.
    ///
    /// The data goes to a temporary file in the same folder, which is then renamed to `path`:
    /// a failed write leaves neither a partial file nor the temporary behind.
    ///
    /// ```swift
    /// try PNG.write(PNGImage(width: 8, height: 8, channels: 3, filling: 255), to: "white.png")
    /// ```
    /// - Throws: ``PNGError/write(path:message:)`` when the folder is missing or unwritable or
    ///   libpng refuses the image.
    public static func write(_ image: PNGImage, to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try encode(image) } catch PNGError.write(_, let message) {
            throw PNGError.write(path: path, message: message)
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// Encodes an 8-bit image as the bytes of a PNG file (errors name the path `"<memory>"`).
    ///
    /// ```swift
    /// let bytes = try PNG.encode(image)      // starts with the PNG signature 89 50 4E 47 …
    /// ```
    public static func encode(_ image: PNGImage) throws -> [UInt8] {
        let stride = Int32(clamping: image.width * image.channels)
        // A first guess that fits nearly every image; libpng reports the exact size if it does not.
        var capacity = image.pixels.count + image.height + image.pixels.count / 64 + 1024
        for _ in 0..<2 {
            var control = LibPNG.makeImage()   // libpng frees its state inside every write call
            control.width = UInt32(clamping: image.width)
            control.height = UInt32(clamping: image.height)
            control.format = LibPNG.format(channels: image.channels)
            var output = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let ok = output.withUnsafeMutableBytes { out in
                image.pixels.withUnsafeBytes { pixels in
                    png_image_write_to_memory(&control, out.baseAddress, &size, 0,
                                              pixels.baseAddress, stride, nil)
                }
            }
            if ok != 0 {
                output.removeSubrange(size...)
                return output
            }
            guard size > capacity else {
                throw PNGError.write(path: "<memory>", message: LibPNG.message(&control))
            }
            capacity = size      // the buffer was too small: retry with the size libpng asked for
        }
        throw PNGError.write(path: "<memory>", message: "libpng needed more memory than it reported")
    }
}
