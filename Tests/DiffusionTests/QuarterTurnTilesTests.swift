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

    @Test func eachTileGetsItsOwnCameraPlanes() {
        let first = CameraPose(azimuth: 0.4, elevation: 0.3)
        let planes = QuarterTurnTiles.planes([first, nil], height: 4, width: 4)       // [2, 3, 4, 4]
        #expect(planes.shape == [2, 3, 4, 4])
        let views = QuarterTurnTiles.untile(planes)                                 // [8, 3, 2, 2]
        for k in 0..<4 {
            let want = CameraPose(azimuth: 0.4 + Float(k) * .pi / 2, elevation: 0.3).direction
            for c in 0..<3 {
                let got = views.data[(k * 3 + c) * 4]
                #expect(abs(got - want[c]) < 1e-5, "tile \(k) channel \(c)")
            }
        }
        #expect(views.data[(4 * 12)...].allSatisfy { $0 == 0 })                    // no camera: zeros
    }

    @Test func aTiledNetworkReadsPerTilePlanesAndSaysSoInItsConfig() throws {
        var config = UNet2DConfig()
        config.sampleSize = 8
        config.blockOutChannels = [32, 32]
        config.downBlockTypes = ["DownBlock2D", "DownBlock2D"]
        config.upBlockTypes = ["UpBlock2D", "UpBlock2D"]
        config.normNumGroups = 8
        config.inChannels = 6
        config.viewTiles = true
        try config.validate()
        let tiled = UNet2D(config: config, seed: 1)
        var plain = config
        plain.viewTiles = false
        let untiled = UNet2D(config: plain, seed: 1)                                  // the same weights
        var rng = RandomGenerator(seed: 2)
        let x = rng.normal([1, 3, 8, 8])
        let c = [DenoiserCondition(camera: CameraPose(azimuth: 0.2, elevation: 0.1))]
        let a = tiled.predict(x, timesteps: [300], conditions: c).data
        let b = untiled.predict(x, timesteps: [300], conditions: c).data
        #expect(zip(a, b).map { abs($0 - $1) }.max()! > 1e-4)                         // the planes differ per tile
        // The planes are exactly QuarterTurnTiles.planes after the image.
        let full = Tensor.concat([x, QuarterTurnTiles.planes([c[0].camera], height: 8, width: 8)], axis: 1)
        let direct = untiled.predict(full, timesteps: [300], classLabels: nil).data
        #expect(zip(direct, a).map { abs($0 - $1) }.max()! < 1e-5)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tiles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try tiled.save(to: folder)
        #expect(try UNet2D(contentsOf: folder).config.viewTiles)
        var broken = config
        broken.inChannels = 3
        #expect(throws: UNetConfigError.self) { try broken.validate() }
    }
}
