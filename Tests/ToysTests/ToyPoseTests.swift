import Foundation
import Testing
import TensorCore
import Diffreps
import Diffusion
import Toys

/// Canonical poses: the same scenes as random ones except for the rotations, and a turntable of
/// a canonical box really changes with the view (what a camera-aware model can learn from).
@Suite struct ToyPoseTests {
    @Test func canonicalScenesDifferFromRandomOnlyInRotation() {
        let random = ToyDataset(seed: 11), canonical = ToyDataset(seed: 11, pose: .canonical)
        for i in 0..<40 {
            let a = random.scene(i), b = canonical.scene(i)
            #expect(a.view == b.view)
            #expect(a.scene.primitives.count == b.scene.primitives.count)
            for (p, q) in zip(a.scene.primitives, b.scene.primitives) {
                #expect(p.shape == q.shape && p.parameters == q.parameters && p.center == q.center && p.color == q.color)
                #expect(q.rotation == ToyRotation.canonical(for: q.shape))
                #expect(p.rotation != q.rotation, "scene \(i): a random rotation equal to the canonical one")
            }
        }
    }

    @Test func canonicalPosesStandUpright() {
        // Cylinder axis up; the torus's ring stands in the xy plane (its axis along z).
        #expect(ToyRotation.canonical(for: .cylinder) == .identity)
        let torusAxis = ToyRotation.canonical(for: .torus).apply(SIMD3(0, 1, 0))
        #expect(Swift.abs(Swift.abs(torusAxis.z) - 1) < 1e-6)
        // A standing torus seen along its axis shows its ring (area π((R+r)² − (R−r)²) ≈ 1.8);
        // seen edge-on it is a bar of about 2(R+r) × 2r ≈ 0.8.
        let ring = ToyScene(primitives: [ToyPrimitive(shape: .torus, parameters: SIMD3(0.7, 0.2, 0),
                                                      rotation: .canonical(for: .torus), color: SIMD3(0.9, 0.2, 0.2))])
        func coverage(_ azimuth: Float) -> Float {
            let image = ring.render(view: OrbitView(azimuth: azimuth, elevation: 0), size: 32, supersampling: 1)
            return Float((0..<1024).filter { image.data[$0] < 0.98 || image.data[1024 + $0] < 0.98 }.count) / 1024
        }
        let faceOn = Swift.max(coverage(0), coverage(.pi / 2)), edgeOn = Swift.min(coverage(0), coverage(.pi / 2))
        #expect(faceOn > 1.8 * edgeOn, "face-on \(faceOn), edge-on \(edgeOn)")
    }

    @Test func poseTravelsWithTheModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pose-card-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try ToyDataset.pose(ofModel: folder) == .random)               // no card: the old data
        let data = ToyTrainingData(dataset: ToyDataset(seed: 0, size: 16, pose: .canonical))
        try TrainingDataCard.write(data.card!, modelFolder: folder)
        #expect(try TrainingDataCard.read(modelFolder: folder)?["size"] == "16")
        #expect(try ToyDataset.pose(ofModel: folder) == .canonical)
        try TrainingDataCard.write(["data": "toys", "pose": "sideways"], modelFolder: folder)
        #expect(throws: UnknownToyPose(modelPath: folder.path, pose: "sideways")) { try ToyDataset.pose(ofModel: folder) }
        let card = folder.appendingPathComponent(TrainingDataCard.fileName)
        try Data("not json".utf8).write(to: card)
        #expect(throws: TrainingDataCardError.notAnObjectOfStrings(path: card.path, reason: "expected 'null' at byte 1")) {
            try TrainingDataCard.read(modelFolder: folder)
        }
        try Data(#"{"data": "toys", "size": 16}"#.utf8).write(to: card)
        #expect(throws: TrainingDataCardError.notAnObjectOfStrings(path: card.path, reason: "'size' is a number")) {
            try TrainingDataCard.read(modelFolder: folder)
        }
    }
}
