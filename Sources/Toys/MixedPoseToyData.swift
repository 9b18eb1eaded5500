import Diffusion
import TensorCore

/// The toys in both poses as one ``Diffusion/TrainingData``: even items from a
/// ``ToyPose/random`` data set, odd items from a ``ToyPose/canonical`` one (same seed, so item
/// `2k` and `2k + 1` share sizes and colours and differ in pose). What the evaluation's classifier
/// learns from, so it reads the upright, world-aligned toys a camera-aware model draws as well as
/// randomly turned ones.
///
/// ```swift
/// let data = MixedPoseToyData(seed: 1)
/// let (images, labels) = data.batch([0, 1])      // item 0 random pose, item 1 canonical
/// ```
public struct MixedPoseToyData: TrainingData, Sendable {
    /// Item `2k` is image `k` of `random`, item `2k + 1` image `k` of `canonical`.
    public let random: ToyDataset
    public let canonical: ToyDataset

    public init(seed: UInt64, size: Int = 32) {
        random = ToyDataset(seed: seed, size: size, pose: .random)
        canonical = ToyDataset(seed: seed, size: size, pose: .canonical)
    }

    public var count: Int? { nil }
    public var numClasses: Int? { ToyDataset.classCount }

    /// The pose of item `index`.
    public static func pose(ofItem index: Int) -> ToyPose { index % 2 == 0 ? .random : .canonical }

    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]?) {
        let even = indices.filter { $0 % 2 == 0 }, odd = indices.filter { $0 % 2 == 1 }
        let r = random.batch(even.map { $0 / 2 }), c = canonical.batch(odd.map { $0 / 2 })
        // Put each image back at its item's position: random ones first, then canonical ones.
        let per = 3 * random.size * random.size
        var data = [Float](), labels = [Int]()
        data.reserveCapacity(indices.count * per)
        var (ri, ci) = (0, 0)
        for i in indices {
            if i % 2 == 0 {
                data += r.images.data[ri * per..<(ri + 1) * per]; labels.append(r.labels[ri]); ri += 1
            } else {
                data += c.images.data[ci * per..<(ci + 1) * per]; labels.append(c.labels[ci]); ci += 1
            }
        }
        return (Tensor([indices.count, 3, random.size, random.size], data: data), labels)
    }

    /// `data: toys`, `pose: mixed`, the image size and elevation range.
    public var card: [String: String]? {
        var c = random.card
        c["pose"] = "mixed"
        return c
    }
}
