import Testing
import TensorCore
@testable import Toys

/// The classifier's mixed-pose data: even items are the random-pose toys, odd items the
/// canonical ones, in any order and mix of indices.
@Suite struct MixedPoseToyDataTests {
    @Test func itemsAlternateBetweenTheTwoPosesInTheRequestedOrder() {
        let mixed = MixedPoseToyData(seed: 7, size: 8)
        let random = ToyDataset(seed: 7, size: 8, pose: .random), canonical = ToyDataset(seed: 7, size: 8, pose: .canonical)
        let items = [5, 0, 3, 2, 9]
        let (images, labels) = mixed.batch(items)
        #expect(images.shape == [5, 3, 8, 8])
        let per = 3 * 8 * 8
        for (b, i) in items.enumerated() {
            let expected = (i % 2 == 0 ? random : canonical).sample(i / 2)
            #expect(Array(images.data[b * per..<(b + 1) * per]) == expected.image.data, "item \(i)")
            #expect(labels?[b] == expected.label)
            #expect(MixedPoseToyData.pose(ofItem: i) == (i % 2 == 0 ? .random : .canonical))
        }
        #expect(mixed.card?["pose"] == "mixed")
    }

    @Test func aBatchOfOnePoseOnlyWorks() {
        let mixed = MixedPoseToyData(seed: 1, size: 8)
        #expect(mixed.batch([1, 3]).images.shape == [2, 3, 8, 8])
        #expect(mixed.batch([0]).images.shape == [1, 3, 8, 8])
    }
}
