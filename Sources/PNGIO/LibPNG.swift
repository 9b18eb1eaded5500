// Small bridges to libpng's simplified API shared by the reader and the writer.

import CPNG

enum LibPNG {
    /// The simplified API's `format` for an 8-bit image with `channels` channels (1...4).
    static func format(channels: Int) -> UInt32 {
        let alpha = UInt32(PNG_FORMAT_FLAG_ALPHA), color = UInt32(PNG_FORMAT_FLAG_COLOR)
        switch channels {
        case 1: return 0
        case 2: return alpha
        case 3: return color
        default: return color | alpha
        }
    }

    /// Channel count (1...4) of a simplified-API `format`, ignoring the linear and colour-map flags.
    static func channels(format: UInt32) -> Int {
        let color = format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let alpha = format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        return (color ? 3 : 1) + (alpha ? 1 : 0)
    }

    /// A fresh, zeroed control structure for the simplified API.
    static func makeImage() -> png_image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        return image
    }

    /// libpng's error or warning text from `image.message`.
    static func message(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "unknown libpng error" : text
    }
}
