import Foundation
import TensorCore

/// A multi-view model as a per-view ``Denoiser``: the batch's views, in consecutive groups of
/// four a quarter turn apart (``QuarterTurnTiles``), are tiled 2×2, denoised together by `base`
/// (a model trained on such tiles, told the group's first camera), and split back — so the four
/// views of a group make their random choices jointly.
///
/// Wrap a guided denoiser to guide the tiles. Views must come grouped: a NeRF draws them so with
/// `NeRFDiffrep.viewsInQuarterTurns`.
///
/// ```swift
/// let d = QuarterTurnTiledDenoiser(base: GuidedDenoiser(base: unet64, guidance: 3, nullClass: 6))
/// let out = d.denoise(views, sigma: 2, conditions: c)      // views [8, 3, 32, 32]: two groups
/// ```
public struct QuarterTurnTiledDenoiser: Denoiser {
    /// The denoiser of tiled images (`[n, C, 2s, 2s]`).
    public let base: any Denoiser

    public init(base: any Denoiser) { self.base = base }

    public func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
        denoise(x, sigma: sigma, conditions: DenoiserCondition.classes(condition))
    }

    /// `x [4n, C, s, s]`, four consecutive views per group; one condition per view (a group's
    /// views must share the class, and their cameras, when given, must be a quarter turn apart).
    public func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor {
        let n = QuarterTurnTiles.viewCount
        precondition(x.rank == 4 && x.shape[0] % n == 0,
                     "a multi-view model denoises views in groups of \(n) a quarter turn apart; got a batch of \(x.shape.first ?? 0) views")
        if let conditions {
            precondition(conditions.count == x.shape[0], "\(conditions.count) conditions for a batch of \(x.shape[0])")
            for g in 0..<(x.shape[0] / n) {
                let group = Array(conditions[(g * n)..<((g + 1) * n)])
                if let why = Self.problem(group) { preconditionFailure("views \(g * n)…\(g * n + n - 1): \(why)") }
            }
        }
        let tileConditions = conditions.map { c in stride(from: 0, to: c.count, by: n).map { c[$0] } }
        return QuarterTurnTiles.untile(base.denoise(QuarterTurnTiles.tile(x), sigma: sigma, conditions: tileConditions))
    }

    /// Why four conditions cannot be one tile (`nil` when they can): different classes, or
    /// cameras that are not `a, a + 90°, a + 180°, a + 270°` at one elevation.
    static func problem(_ group: [DenoiserCondition]) -> String? {
        guard group.allSatisfy({ $0.classLabel == group[0].classLabel }) else { return "one group's views must share a class" }
        let cameras = group.compactMap(\.camera)
        if cameras.isEmpty { return nil }
        guard cameras.count == group.count else { return "either every view of a group has a camera or none has" }
        for (k, c) in cameras.enumerated() {
            let d = c.direction - QuarterTurnTiles.camera(cameras[0], view: k).direction
            guard (d * d).sum() < 1e-6 else { return "view \(k)'s camera is not \(k) quarter turn(s) from the first" }
        }
        return nil
    }
}
