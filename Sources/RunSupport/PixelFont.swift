// A tiny built-in 5×7 pixel font for plot labels and image captions (no font files needed).

import PNGIO

/// A 5×7 pixel font: digits, capital letters (lower case is drawn as capitals), σ, space and
/// `. , - + : / ( ) % _ = ' ? # < > [ ] * ×`. Unknown characters draw as `?`.
/// Each character takes 6 × 8 cells of `scale` pixels (one column and row of spacing).
///
/// ```swift
/// var image = PNGImage(width: 120, height: 20, channels: 3, filling: 255)
/// PixelFont.draw("seed 42", into: &image, x: 2, y: 2, scale: 2, color: (0, 0, 0))
/// PixelFont.width(of: "seed 42", scale: 2)     // 82
/// ```
public enum PixelFont {
    /// Glyph width in font pixels.
    public static let glyphWidth = 5
    /// Glyph height in font pixels.
    public static let glyphHeight = 7
    /// Horizontal distance between characters in font pixels (glyph plus one column of space).
    public static let advance = 6

    /// Width in image pixels of `text` drawn at `scale` (no trailing space).
    public static func width(of text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (text.count * advance - 1) * scale
    }

    /// Height in image pixels of one line at `scale`.
    public static func height(scale: Int = 1) -> Int { glyphHeight * scale }

    /// Draws `text` with its top-left corner at (`x`, `y`); pixels outside the image are skipped.
    /// With `vertical`, the text runs upwards (rotated 90° anticlockwise, as a y-axis label) and
    /// (`x`, `y`) is its bottom-left corner.
    public static func draw(_ text: String, into image: inout PNGImage, x: Int, y: Int, scale: Int = 1,
                            color: (UInt8, UInt8, UInt8), vertical: Bool = false) {
        precondition(scale >= 1, "font scale must be at least 1, got \(scale)")
        let rgb = [color.0, color.1, color.2]
        var cursor = 0
        for character in text {
            let rows = glyph(character)
            for gy in 0..<glyphHeight {
                let row = Array(rows[gy])
                for gx in 0..<glyphWidth where row[gx] == "#" {
                    for sy in 0..<scale {
                        for sx in 0..<scale {
                            let u = (cursor + gx) * scale + sx, v = gy * scale + sy
                            let (px, py) = vertical ? (x + v, y - u) : (x + u, y + v)
                            setPixel(&image, px, py, rgb)
                        }
                    }
                }
            }
            cursor += advance
        }
    }

    /// The seven rows of a character's glyph (`#` ink, `.` paper).
    static func glyph(_ character: Character) -> [Substring] {
        let key = character.isLowercase && character != "σ" ? Character(character.uppercased()) : character
        let rows = glyphs[key] ?? glyphs["?"]!
        return rows.split(separator: "|")
    }

    private static func setPixel(_ image: inout PNGImage, _ x: Int, _ y: Int, _ rgb: [UInt8]) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        let base = (y * image.width + x) * image.channels
        if image.channels >= 3 {
            image.pixels[base] = rgb[0]; image.pixels[base + 1] = rgb[1]; image.pixels[base + 2] = rgb[2]
        } else {
            image.pixels[base] = UInt8((Int(rgb[0]) * 77 + Int(rgb[1]) * 150 + Int(rgb[2]) * 29) >> 8)
        }
        if image.hasAlpha { image.pixels[base + image.channels - 1] = 255 }
    }

    /// The glyphs, seven rows of five cells each, top row first.
    private static let glyphs: [Character: String] = [
        "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
        "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
        "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
        "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
        "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
        "5": "#####|#....|####.|....#|....#|#...#|.###.",
        "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
        "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
        "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
        "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
        "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
        "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
        "C": ".###.|#...#|#....|#....|#....|#...#|.###.",
        "D": "###..|#..#.|#...#|#...#|#...#|#..#.|###..",
        "E": "#####|#....|#....|####.|#....|#....|#####",
        "F": "#####|#....|#....|####.|#....|#....|#....",
        "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
        "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
        "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
        "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
        "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
        "L": "#....|#....|#....|#....|#....|#....|#####",
        "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
        "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
        "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
        "P": "####.|#...#|#...#|####.|#....|#....|#....",
        "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
        "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
        "S": ".####|#....|#....|.###.|....#|....#|####.",
        "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
        "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
        "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
        "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
        "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
        "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
        "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
        "σ": ".....|.....|.####|#..#.|#...#|#...#|.###.",
        " ": ".....|.....|.....|.....|.....|.....|.....",
        ".": ".....|.....|.....|.....|.....|.##..|.##..",
        ",": ".....|.....|.....|.....|.##..|..#..|.#...",
        "-": ".....|.....|.....|.###.|.....|.....|.....",
        "+": ".....|..#..|..#..|#####|..#..|..#..|.....",
        ":": ".....|.##..|.##..|.....|.##..|.##..|.....",
        "/": ".....|....#|...#.|..#..|.#...|#....|.....",
        "(": "...#.|..#..|.#...|.#...|.#...|..#..|...#.",
        ")": ".#...|..#..|...#.|...#.|...#.|..#..|.#...",
        "[": ".###.|.#...|.#...|.#...|.#...|.#...|.###.",
        "]": ".###.|...#.|...#.|...#.|...#.|...#.|.###.",
        "%": "##...|##..#|...#.|..#..|.#...|#..##|...##",
        "_": ".....|.....|.....|.....|.....|.....|#####",
        "=": ".....|.....|#####|.....|#####|.....|.....",
        "'": "..#..|..#..|.#...|.....|.....|.....|.....",
        "?": ".###.|#...#|....#|...#.|..#..|.....|..#..",
        "#": ".#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#.",
        "<": "...#.|..#..|.#...|#....|.#...|..#..|...#.",
        ">": ".#...|..#..|...#.|....#|...#.|..#..|.#...",
        "*": ".....|..#..|#.#.#|.###.|#.#.#|..#..|.....",
        "×": ".....|#...#|.#.#.|..#..|.#.#.|#...#|.....",
    ]
}
