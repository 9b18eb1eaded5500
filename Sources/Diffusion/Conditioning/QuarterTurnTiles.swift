import Foundation
import TensorCore

/// Four views of one scene, a quarter turn apart about the vertical axis, laid out as one
/// 2×2 image — the input of a **multi-view** model, which denoises the four views together so
/// that their random choices (layout, colour, which side objects) are made jointly instead of
/// view by view.
///
/// View `k` (`k = 0…3`) is seen from azimuth `a + k·90°` at one elevation, and sits clockwise
/// from the top-left: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left, so every tile
/// borders the two views a quarter turn from it. The model is a plain `UNet2DModel` at twice
/// the tile size; its camera (view bins in the class label) is view 0's. A model trained this
/// way says so in its ``TrainingDataCard`` (``cardKey`` = ``cardValue``). In diffusers:
///
/// ```python
/// # views: [4n, 3, s, s], consecutive groups of four at azimuths a, a+90°, a+180°, a+270°
/// v = views.view(n, 4, 3, s, s)
/// top = torch.cat([v[:, 0], v[:, 1]], dim=-1); bottom = torch.cat([v[:, 3], v[:, 2]], dim=-1)
/// tiles = torch.cat([top, bottom], dim=-2)                       # [n, 3, 2s, 2s]
/// ```
///
/// ```swift
/// let tiles = QuarterTurnTiles.tile(views)          // views [8, 3, 32, 32] → [2, 3, 64, 64]
/// let back = QuarterTurnTiles.untile(tiles)         // [8, 3, 32, 32], equal to views
/// ```
public enum QuarterTurnTiles {
    /// Views per tiled image.
    public static let viewCount = 4
    /// The azimuth step between consecutive views (radians).
    public static let azimuthStep = Float.pi / 2
    /// The training-data card's key and value that mark a model trained on these tiles.
    public static let cardKey = "view_tiles", cardValue = "2x2-quarter-turns"
    /// The `config.json` key of a network that takes these tiles (``UNet2DConfig/viewTiles``;
    /// diffusers keeps `_` keys and ignores them).
    public static let configKey = "_diffrep_view_tiles"

    /// The camera of view `k` of a group whose first view is seen from `first`: `first`
    /// turned by `k` quarter turns about the vertical axis.
    public static func camera(_ first: CameraPose, view k: Int) -> CameraPose {
        let a = Float(k) * azimuthStep, d = first.direction
        return CameraPose(direction: SIMD3(d.x * Foundation.cos(a) + d.z * Foundation.sin(a), d.y,
                                           -d.x * Foundation.sin(a) + d.z * Foundation.cos(a)))
    }

    /// ``CameraPlanes`` for tiled images `[n, 3, 2s, 2s]`: each tile holds its own view's camera
    /// direction (``camera(_:view:)`` of the item's camera), zeros for an unknown camera. In diffusers:
    ///
    /// ```python
    /// d = [turn(first, k) for k in range(4)]                      # [4, 3] per item
    /// planes = torch.cat([torch.cat([P(d[0]), P(d[1])], -1), torch.cat([P(d[3]), P(d[2])], -1)], -2)
    /// ```
    public static func planes(_ cameras: [CameraPose?], height: Int, width: Int) -> Tensor {
        precondition(height % 2 == 0 && width % 2 == 0, "tiled images have even sides, got \(height)×\(width)")
        let perTile = cameras.flatMap { c in (0..<viewCount).map { k in c.map { camera($0, view: k) } } }
        return tile(CameraPlanes.planes(perTile, height: height / 2, width: width / 2))
    }

    /// `(row, column)` of view `k` in the 2×2 grid (clockwise from the top-left).
    public static let cells: [(row: Int, column: Int)] = [(0, 0), (0, 1), (1, 1), (1, 0)]

    /// `[4n, C, s, s]` (consecutive groups of four views) → `[n, C, 2s, 2s]`.
    public static func tile(_ views: Tensor) -> Tensor {
        precondition(views.rank == 4 && views.shape[0] % viewCount == 0,
                     "QuarterTurnTiles.tile needs [4n, C, H, W] (groups of four views), got \(views.shape)")
        let (n, c, h, w) = (views.shape[0] / viewCount, views.shape[1], views.shape[2], views.shape[3])
        var out = [Float](repeating: 0, count: views.count)
        let src = views.data
        for g in 0..<n {
            for (k, cell) in cells.enumerated() {
                for ch in 0..<c {
                    let from = (((g * viewCount + k) * c + ch) * h) * w
                    for y in 0..<h {
                        let to = ((g * c + ch) * 2 * h + cell.row * h + y) * 2 * w + cell.column * w
                        for x in 0..<w { out[to + x] = src[from + y * w + x] }
                    }
                }
            }
        }
        return Tensor([n, c, 2 * h, 2 * w], data: out)
    }

    /// `[n, C, 2s, 2s]` → `[4n, C, s, s]`: the inverse of ``tile(_:)``.
    public static func untile(_ tiles: Tensor) -> Tensor {
        precondition(tiles.rank == 4 && tiles.shape[2] % 2 == 0 && tiles.shape[3] % 2 == 0,
                     "QuarterTurnTiles.untile needs [n, C, 2H, 2W], got \(tiles.shape)")
        let (n, c, h, w) = (tiles.shape[0], tiles.shape[1], tiles.shape[2] / 2, tiles.shape[3] / 2)
        var out = [Float](repeating: 0, count: tiles.count)
        let src = tiles.data
        for g in 0..<n {
            for (k, cell) in cells.enumerated() {
                for ch in 0..<c {
                    let to = (((g * viewCount + k) * c + ch) * h) * w
                    for y in 0..<h {
                        let from = ((g * c + ch) * 2 * h + cell.row * h + y) * 2 * w + cell.column * w
                        for x in 0..<w { out[to + y * w + x] = src[from + x] }
                    }
                }
            }
        }
        return Tensor([n * viewCount, c, h, w], data: out)
    }

    /// Whether `card` (a model's ``TrainingDataCard``) marks a model trained on these tiles.
    public static func marks(_ card: [String: String]?) -> Bool { card?[cardKey] == cardValue }
}
