import Foundation
import Testing
import TensorCore
import Diffreps
import Diffusion
import Toys

/// The multi-view training data: each item is one scene from four views a quarter turn apart.
@Suite struct ToyViewTilesTests {
    @Test func eachTileIsTheSceneSeenAQuarterTurnFurther() {
        let toys = ToyDataset(seed: 3, size: 16, pose: .canonical)
        let data = ToyViewTiles(dataset: toys)
        let (images, labels) = data.batch([5, 9])
        #expect(images.shape == [2, 3, 32, 32])
        let views = QuarterTurnTiles.untile(images)                     // [8, 3, 16, 16]
        for (b, i) in [5, 9].enumerated() {
            let (scene, view) = toys.scene(i)
            #expect(labels?[b] == scene.label)
            for k in 0..<4 {
                var turned = view
                turned.azimuth += Float(k) * .pi / 2
                let expected = toys.renderer.render(scene, view: turned, width: 16, height: 16)
                let got = views.slice(axis: 0, (4 * b + k)..<(4 * b + k + 1))
                #expect(got.data == expected.data, "item \(i), view \(k)")
            }
        }
        // The four views differ (a canonical scene seen from four sides is not one picture).
        let first = views.slice(axis: 0, 0..<1).data, second = views.slice(axis: 0, 1..<2).data
        #expect(first != second)
    }

    @Test func theCameraIsTheFirstViewsAndTheCardSaysTiles() {
        let toys = ToyDataset(seed: 3, pose: .canonical)
        let data = ToyViewTiles(dataset: toys)
        let view = toys.scene(4).view
        #expect(data.cameras([4]) == [CameraPose(azimuth: view.azimuth, elevation: view.elevation)])
        #expect(QuarterTurnTiles.marks(data.card))
        #expect(data.card?["pose"] == "canonical" && data.card?["size"] == "32")
        #expect(data.side == 64)
    }
}
