import Foundation

/// A mesh that could not be written: an extension no writer handles, or a failed write.
///
/// ```swift
/// do { try mesh.write(to: URL(fileURLWithPath: "mesh.stl")) }
/// catch { print(error) }   // cannot write mesh 'mesh.stl': unsupported extension '.stl' (use .ply or .obj)
/// ```
public enum MeshFileError: Error, CustomStringConvertible, Equatable {
    /// The file name's extension (possibly empty) names no mesh format.
    case unsupportedExtension(path: String, pathExtension: String)
    /// The system refused the write.
    case write(path: String, message: String)

    public var description: String {
        switch self {
        case .unsupportedExtension(let path, let ext):
            let what = ext.isEmpty ? "no extension" : "unsupported extension '.\(ext)'"
            return "cannot write mesh '\(path)': \(what) (use .ply or .obj)"
        case .write(let path, let message):
            return "cannot write mesh '\(path)': \(message)"
        }
    }
}

extension TriangleMesh {
    /// The two PLY encodings.
    public enum PLYFormat: Sendable {
        /// `binary_little_endian 1.0` (compact; the default).
        case binaryLittleEndian
        /// `ascii 1.0` (readable).
        case ascii
    }

    /// Writes the mesh to `url`, the format chosen by the extension (case-insensitive):
    /// `.ply` (binary little-endian PLY with `uchar red/green/blue` vertex colours) or `.obj`
    /// (`v x y z r g b` with colours in `[0, 1]`). The write is atomic: a temporary file in the
    /// same folder renamed over the destination, so a failure never leaves half a file.
    ///
    /// ```swift
    /// try field.extractMesh().write(to: URL(fileURLWithPath: "out/nerf.obj"))
    /// ```
    /// - Throws: ``MeshFileError``: an unknown extension (named in the message) or the system's
    ///   reason for a failed write.
    public func write(to url: URL) throws {
        let ext = url.pathExtension.lowercased()
        let bytes: [UInt8]
        switch ext {
        case "ply": bytes = plyBytes()
        case "obj": bytes = objBytes()
        default: throw MeshFileError.unsupportedExtension(path: url.path, pathExtension: url.pathExtension)
        }
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw MeshFileError.write(path: url.path, message: Self.reason(error))
        }
    }

    /// The system's words for a failed write: `strerror` of the POSIX error underneath, else
    /// Foundation's description.
    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        let posix = [underlying, ns].compactMap { $0 }.first { $0.domain == NSPOSIXErrorDomain }
        return posix.map { String(cString: strerror(Int32($0.code))) } ?? ns.localizedDescription
    }

    /// The mesh as a PLY file: per vertex `float x, y, z` and `uchar red, green, blue`, per face
    /// a `uchar`-counted list of `int` indices.
    ///
    /// ```swift
    /// let text = String(decoding: mesh.plyBytes(format: .ascii), as: UTF8.self)
    /// ```
    public func plyBytes(format: PLYFormat = .binaryLittleEndian) -> [UInt8] {
        let name = format == .ascii ? "ascii" : "binary_little_endian"
        let header = """
            ply
            format \(name) 1.0
            comment written by Diffreps
            element vertex \(vertices.count)
            property float x
            property float y
            property float z
            property uchar red
            property uchar green
            property uchar blue
            element face \(triangles.count)
            property list uchar int vertex_indices
            end_header

            """
        var out = Array(header.utf8)
        switch format {
        case .ascii:
            var text = ""
            text.reserveCapacity(vertices.count * 40 + triangles.count * 24)
            for (p, c) in zip(vertices, colors) { text += "\(p.x) \(p.y) \(p.z) \(c.x) \(c.y) \(c.z)\n" }
            for t in triangles { text += "3 \(t.x) \(t.y) \(t.z)\n" }
            out += Array(text.utf8)
        case .binaryLittleEndian:
            out.reserveCapacity(out.count + vertices.count * 15 + triangles.count * 13)
            func append32(_ bits: UInt32) {
                let le = bits.littleEndian
                out.append(UInt8(truncatingIfNeeded: le)); out.append(UInt8(truncatingIfNeeded: le >> 8))
                out.append(UInt8(truncatingIfNeeded: le >> 16)); out.append(UInt8(truncatingIfNeeded: le >> 24))
            }
            for (p, c) in zip(vertices, colors) {
                append32(p.x.bitPattern); append32(p.y.bitPattern); append32(p.z.bitPattern)
                out.append(c.x); out.append(c.y); out.append(c.z)
            }
            for t in triangles {
                out.append(3)
                append32(UInt32(bitPattern: t.x)); append32(UInt32(bitPattern: t.y)); append32(UInt32(bitPattern: t.z))
            }
        }
        return out
    }

    /// The mesh as a Wavefront OBJ file: `v x y z r g b` (colours in `[0, 1]`, the common
    /// extension that MeshLab and Blender read) and `f i j k` with 1-based indices.
    ///
    /// ```swift
    /// let text = String(decoding: mesh.objBytes(), as: UTF8.self)   // "# written by Diffreps\nv …"
    /// ```
    public func objBytes() -> [UInt8] {
        var text = "# written by Diffreps: \(vertices.count) vertices, \(triangles.count) triangles\n"
        text.reserveCapacity(text.utf8.count + vertices.count * 48 + triangles.count * 24)
        // Colours c/255 to 4 decimals: enough to read back the same byte.
        let shade = (0...255).map { c -> String in
            let s = String(format: "%.4f", Double(c) / 255)
            return c == 0 ? "0" : c == 255 ? "1" : s
        }
        for (p, c) in zip(vertices, colors) {
            text += "v \(p.x) \(p.y) \(p.z) \(shade[Int(c.x)]) \(shade[Int(c.y)]) \(shade[Int(c.z)])\n"
        }
        for t in triangles { text += "f \(t.x + 1) \(t.y + 1) \(t.z + 1)\n" }
        return Array(text.utf8)
    }
}
