import Foundation
import TensorCore

/// Four views of one scene, a quarter turn apart about the vertical axis, laid out as one
/// 2×2 image — the input of a **multi-view** model, which denoises the four views together so
/// that their random choices (layout, colour, which side objects) are made jointly instead of
/// view by view.
///
/// View `k` (`k = 0…3`) is seen from azimuth `a + k·90°` at one elevation, and sits clockwise
/// from the top-left: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left. Tiles are only the
/// packing that lets a trainer and a sampler treat the four views as one image; the network
/// (``UNet2DConfig/viewTiles``) unpacks them, runs each view with its own camera (view 0's camera
/// turned ``camera(_:view:)``) and joins them in its attention layers. A model trained this way
/// also says so in its ``TrainingDataCard`` (``cardKey`` = ``cardValue``). In PyTorch:
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

    /// `[4n, C, s, s]` (consecutive groups of four views) → `[n, C, 2s, 2s]`; differentiable.
    public static func tile(_ views: Tensor) -> Tensor {
        precondition(views.rank == 4 && views.shape[0] % viewCount == 0,
                     "QuarterTurnTiles.tile needs [4n, C, H, W] (groups of four views), got \(views.shape)")
        let (n, c, h, w) = (views.shape[0] / viewCount, views.shape[1], views.shape[2], views.shape[3])
        return views.reshaped([n, viewCount, c, h, w])
            .gather(indices: gridOrder, axis: 1)                    // row-major grid: views 0, 1, 3, 2
            .reshaped([n, 2, 2, c, h, w]).permuted([0, 3, 1, 4, 2, 5]).reshaped([n, c, 2 * h, 2 * w])
    }

    /// `[n, C, 2s, 2s]` → `[4n, C, s, s]`: the inverse of ``tile(_:)``; differentiable.
    public static func untile(_ tiles: Tensor) -> Tensor {
        precondition(tiles.rank == 4 && tiles.shape[2] % 2 == 0 && tiles.shape[3] % 2 == 0,
                     "QuarterTurnTiles.untile needs [n, C, 2H, 2W], got \(tiles.shape)")
        let (n, c, h, w) = (tiles.shape[0], tiles.shape[1], tiles.shape[2] / 2, tiles.shape[3] / 2)
        return tiles.reshaped([n, c, 2, h, 2, w]).permuted([0, 2, 4, 1, 3, 5]).reshaped([n, viewCount, c, h, w])
            .gather(indices: gridOrder, axis: 1)                    // the grid order is its own inverse
            .reshaped([n * viewCount, c, h, w])
    }

    /// The views in row-major grid order (top-left, top-right, bottom-left, bottom-right).
    static let gridOrder = [0, 1, 3, 2]

    /// Whether `card` (a model's ``TrainingDataCard``) marks a model trained on these tiles.
    public static func marks(_ card: [String: String]?) -> Bool { card?[cardKey] == cardValue }
}
