import Foundation
import Testing
import TensorCore
@testable import Diffusion

/// The multi-view layout: four views a quarter turn apart as one 2×2 image, and the denoiser
/// that denoises them together.
@Suite struct QuarterTurnTilesTests {
    /// `[8, 2, 3, 3]` views whose every value names its view, channel and pixel.
    func numberedViews() -> Tensor {
        var data: [Float] = []
        for v in 0..<8 { for c in 0..<2 { for p in 0..<9 { data.append(Float(v * 100 + c * 10 + p)) } } }
        return Tensor([8, 2, 3, 3], data: data)
    }

    @Test func viewsSitClockwiseFromTheTopLeft() {
        let tiles = QuarterTurnTiles.tile(numberedViews())          // [2, 2, 6, 6]
        #expect(tiles.shape == [2, 2, 6, 6])
        func at(_ g: Int, _ c: Int, _ y: Int, _ x: Int) -> Float { tiles.data[((g * 2 + c) * 6 + y) * 6 + x] }
        #expect(at(0, 0, 0, 0) == 0)          // view 0, top-left
        #expect(at(0, 0, 0, 3) == 100)        // view 1, top-right
        #expect(at(0, 0, 3, 3) == 200)        // view 2, bottom-right
        #expect(at(0, 0, 3, 0) == 300)        // view 3, bottom-left
        #expect(at(1, 1, 5, 5) == 600 + 10 + 8)   // group 1 = views 4…7; view 6 bottom-right, last pixel
        #expect(at(0, 0, 1, 2) == 5)          // row 1, column 2 of view 0
    }

    @Test func untileInvertsTile() {
        let views = numberedViews()
        #expect(QuarterTurnTiles.untile(QuarterTurnTiles.tile(views)).data == views.data)
        #expect(QuarterTurnTiles.untile(QuarterTurnTiles.tile(views)).shape == views.shape)
    }

    /// A base that mixes each tile's left and right halves: the output of one view then depends
    /// on its neighbour, which only a tiled call can give.
    struct MirrorTiles: Denoiser {
        func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor {
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            var out = x.data
            for i in 0..<(n * c * h) { for j in 0..<w { out[i * w + j] = x.data[i * w + (w - 1 - j)] } }
            return Tensor(x.shape, data: out)
        }
    }

    @Test func theTiledDenoiserDenoisesEachGroupAsOneImage() {
        let views = numberedViews()
        let out = QuarterTurnTiledDenoiser(base: MirrorTiles()).denoise(views, sigma: 1, conditions: nil)
        #expect(out.shape == views.shape)
        // Mirrored left–right, view 0 (top-left) receives view 1 (top-right) mirrored.
        #expect(out.data[0] == 100 + 2)
        #expect(out.data == QuarterTurnTiles.untile(MirrorTiles().denoise(QuarterTurnTiles.tile(views), sigma: 1, condition: nil)).data)
    }

    /// Records the conditions the tiles get.
    final class Recorder: Denoiser, @unchecked Sendable {
        var seen: [DenoiserCondition]? = nil
        func denoise(_ x: Tensor, sigma: Float, condition: [Int]?) -> Tensor { x }
        func denoise(_ x: Tensor, sigma: Float, conditions: [DenoiserCondition]?) -> Tensor { seen = conditions; return x }
    }

    @Test func eachTileIsToldItsFirstViewsCamera() {
        let a: Float = 0.7, e: Float = 0.2
        let conditions = (0..<8).map { k in
            DenoiserCondition(classLabel: 1, camera: CameraPose(azimuth: (k < 4 ? a : a + 1) + Float(k % 4) * .pi / 2, elevation: e))
        }
        let recorder = Recorder()
        _ = QuarterTurnTiledDenoiser(base: recorder).denoise(numberedViews(), sigma: 1, conditions: conditions)
        #expect(recorder.seen == [conditions[0], conditions[4]])
    }

    @Test func groupsMustBeQuarterTurnsOfOneClass() {
        let views = (0..<4).map { CameraPose(azimuth: 0.3 + Float($0) * .pi / 2, elevation: 0.1) }
        let good = views.map { DenoiserCondition(classLabel: 2, camera: $0) }
        #expect(QuarterTurnTiledDenoiser.problem(good) == nil)
        #expect(QuarterTurnTiledDenoiser.problem(good.map { DenoiserCondition(classLabel: $0.classLabel) }) == nil)
        var anticlockwise = good
        anticlockwise[1].camera = CameraPose(azimuth: 0.3 - .pi / 2, elevation: 0.1)
        #expect(QuarterTurnTiledDenoiser.problem(anticlockwise)?.contains("view 1") == true)
        var higher = good
        higher[3].camera = CameraPose(azimuth: 0.3 + 3 * .pi / 2, elevation: 0.4)
        #expect(QuarterTurnTiledDenoiser.problem(higher)?.contains("view 3") == true)
        var mixed = good
        mixed[2].classLabel = 3
        #expect(QuarterTurnTiledDenoiser.problem(mixed)?.contains("class") == true)
    }

    @Test func aCardMarksAMultiViewModel() {
        #expect(QuarterTurnTiles.marks(["data": "toys", "view_tiles": "2x2-quarter-turns"]))
        #expect(!QuarterTurnTiles.marks(["data": "toys"]))
        #expect(!QuarterTurnTiles.marks(nil))
    }

    /// A small camera-bins UNet at 8×8 (attention at level 1 or none), and its multi-view copy at 16×16.
    func models(attention: Bool) throws -> (single: UNet2D, multi: UNet2D) {
        var config = UNet2DConfig()
        config.sampleSize = 8
        config.blockOutChannels = [32, 32]
        config.downBlockTypes = ["DownBlock2D", attention ? "AttnDownBlock2D" : "DownBlock2D"]
        config.upBlockTypes = [attention ? "AttnUpBlock2D" : "UpBlock2D", "UpBlock2D"]
        config.addAttention = attention
        config.normNumGroups = 8
        config.attentionHeadDim = 32
        config.numClassEmbeds = 3
        try config.validate()
        let single = UNet2D(cameraBinsFrom: UNet2D(config: config, seed: 1), bins: CameraBins())
        for (_, p) in single.parameters { p.data = p.data.enumerated().map { $1 + 0.01 * Float($0 % 7) } }   // bins told apart
        return (single, UNet2D(copying: single, sampleSize: 16, viewTiles: true))
    }

    @Test func eachTileIsItsOwnViewWithItsOwnCamera() throws {
        let (single, multi) = try models(attention: false)
        #expect(multi.config.viewTiles && multi.config.viewGroup == 4)
        var rng = RandomGenerator(seed: 2)
        let tiles = rng.normal([2, 3, 16, 16])
        let first = [CameraPose(azimuth: 0.3, elevation: 0.2), CameraPose(azimuth: 2.0, elevation: -0.1)]
        let c = [DenoiserCondition(classLabel: 1, camera: first[0]), DenoiserCondition(classLabel: 0, camera: first[1])]
        let got = QuarterTurnTiles.untile(multi.predict(tiles, timesteps: [300, 500], conditions: c))
        // Without attention the views do not meet: each equals the single-view model on that view.
        let perView = (0..<8).map { j in DenoiserCondition(classLabel: c[j / 4].classLabel, camera: QuarterTurnTiles.camera(first[j / 4], view: j % 4)) }
        let want = single.predict(QuarterTurnTiles.untile(tiles), timesteps: [300, 300, 300, 300, 500, 500, 500, 500], conditions: perView)
        #expect(zip(got.data, want.data).map { abs($0 - $1) }.max()! < 1e-5)
        // The cameras matter: the same views told the first camera everywhere differ.
        let sameCamera = (0..<8).map { j in DenoiserCondition(classLabel: c[j / 4].classLabel, camera: first[j / 4]) }
        let other = single.predict(QuarterTurnTiles.untile(tiles), timesteps: [300, 300, 300, 300, 500, 500, 500, 500], conditions: sameCamera)
        #expect(zip(got.data, other.data).map { abs($0 - $1) }.max()! > 1e-4)
    }

    @Test func attentionJoinsTheFourViews() throws {
        let (single, multi) = try models(attention: true)
        var rng = RandomGenerator(seed: 3)
        let views = rng.normal([4, 3, 8, 8])
        var changed = views.data
        for i in (3 * 64)..<(4 * 64) { changed[i] += 1 }                            // view 1, first channel
        let c = [DenoiserCondition(classLabel: 2, camera: CameraPose(azimuth: 1, elevation: 0))]
        let a = QuarterTurnTiles.untile(multi.predict(QuarterTurnTiles.tile(views), timesteps: [400], conditions: c))
        let b = QuarterTurnTiles.untile(multi.predict(QuarterTurnTiles.tile(Tensor(views.shape, data: changed)), timesteps: [400], conditions: c))
        let view0 = 0..<(3 * 64)
        #expect(zip(a.data[view0], b.data[view0]).map { abs($0 - $1) }.max()! > 1e-5)   // view 0 sees view 1
        // A single-view model keeps batch items apart.
        let cs = [DenoiserCondition](repeating: DenoiserCondition(classLabel: 2), count: 4)
        let s1 = single.predict(views, timesteps: [400, 400, 400, 400], conditions: cs)
        let s2 = single.predict(Tensor(views.shape, data: changed), timesteps: [400, 400, 400, 400], conditions: cs)
        #expect(Array(s1.data[view0]) == Array(s2.data[view0]))
    }

    @Test func theConfigRecordsTheTiles() throws {
        let (_, multi) = try models(attention: true)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tiles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try multi.save(to: folder)
        #expect(try UNet2D(contentsOf: folder).config.viewTiles)
        var broken = multi.config
        broken.inChannels = 6
        #expect(throws: UNetConfigError.self) { try broken.validate() }
    }

    @Test func tilingIsDifferentiable() {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.parameter([4, 2, 3, 3], data: rng.normalValues(72))
        let r = GradientCheck.finiteDifferences([x]) { QuarterTurnTiles.untile(QuarterTurnTiles.tile($0[0]).square()) }
        #expect(r.maxError <= 1e-3 * max(1, r.scale), "\(r)")
    }
}
