import ArgumentParser
import Testing
@testable import DiffrepCLI

/// Command-line values are checked where they enter: each error names the option, the value and
/// what is allowed — sizes with an upper bound, negative numbers (once read as a missing value),
/// lists with an entry that is no number, and `--stop-after` outside the run.
@Suite struct OptionValidationTests {
    /// The message `diffrep ARGS…` fails to parse with (nil when it parses).
    static func parseMessage(_ args: [String]) -> String? {
        do { _ = try DiffrepCommand.parseAsRoot(args) } catch { return DiffrepCommand.message(for: error) }
        return nil
    }

    @Test(arguments: [
        (["nerf", "--display-size", "100000"], "--display-size 100000 is out of range: allowed 8…4096"),
        (["nerf", "--samples-per-ray", "5000"], "--samples-per-ray 5000 is out of range: allowed 4…1024"),
        (["nerf", "--views-per-step", "1000"], "--views-per-step 1000 is out of range: allowed 1…256"),
        (["nerf", "--frames", "100000"], "--frames 100000 is out of range: allowed 1…3600"),
        (["panorama", "--width", "1000000"], "--width 1000000 is out of range: allowed 8…65536"),
        (["image", "--count", "100000"], "--count 100000 is out of range: allowed 1…4096"),
        (["sample", "--per-class", "--count", "100000"], "--count 100000 is out of range: allowed 1…4096"),
        (["dataset", "--size", "100000"], "--size 100000 is out of range: allowed 8…4096"),
        (["dataset", "--count", "100000000"], "--count 100000000 is out of range: allowed 1…10000000"),
        (["train", "--size", "2048"], "--size 2048 is out of range: allowed 8…1024"),
        (["train", "--batch-size", "100000"], "--batch-size 100000 is out of range: allowed 1…4096"),
        (["train", "--channels", "32,100000"], "--channels '32,100000': entry 2, 100000, is out of range: allowed 32…8192"),
        (["eval", "loss", "--batch-size", "100000"], "--batch-size 100000 is out of range: allowed 1…4096"),
    ])
    func sizesHaveUpperBounds(args: [String], message: String) {
        #expect(Self.parseMessage(args) == message)
    }

    /// `-1` after an option is its value (not a flag), so the message says it is out of range.
    @Test(arguments: [
        (["nerf", "--steps", "-1"], "--steps -1 is out of range: allowed 1…100000"),
        (["sample", "--count", "-3"], "--count -3 is out of range: allowed 1…4096"),
        (["train", "--batch-size", "-2"], "--batch-size -2 is out of range: allowed 1…4096"),
        (["image", "--guidance", "-1"], "--guidance -1.0 is out of range: allowed a finite number ≥ 0"),
        (["nerf", "--display-size", "-96"], "--display-size -96 is out of range: allowed 8…4096"),
        (["panorama", "--views-per-step", "-4"], "--views-per-step -4 is out of range: allowed 1…256"),
        (["dataset", "--class", "-1"], "unknown class '-1'; use 0..<6 or one of sphere, box, cylinder, cone, torus, capsule"),
        (["nerf", "--single-group-above-sigma", "-1"], "--single-group-above-sigma must be a finite σ ≥ 0"),
    ])
    func negativeNumbersAreValuesOutOfRange(args: [String], message: String) {
        #expect(Self.parseMessage(args) == message)
    }

    @Test(arguments: [
        (["train", "--channels", "32,abc,32"], "--channels '32,abc,32': entry 2, 'abc', is not a whole number"),
        (["train", "--channels", "32,,64"], "--channels '32,,64': entry 2, '', is not a whole number"),
        (["train", "--channels", "48,64"], "--channels '48,64': entry 1, 48, is not a multiple of 32 (8 GroupNorm groups and 32-wide attention heads), e.g. 64,128,128"),
        (["train", "--attention", "7,banana"], "--attention '7,banana': entry 1, 7, is out of range: allowed 0…2"),
        (["train", "--attention", "1,banana"], "--attention '1,banana': entry 2, 'banana', is not a whole number"),
        (["train", "--channels", "32,32,32,32,32,32,32,32,32"], "--channels '32,32,32,32,32,32,32,32,32' has 9 entries: allowed 1…8 (one per resolution level)"),
        (["train", "--size", "30"], "--size 30 cannot be used: the UNet's 3 levels need a side of at least 8 that is a multiple of 4 (2^(levels − 1))"),
    ])
    func listsAndSizesTheUNetCannotTakeAreRefused(args: [String], message: String) {
        #expect(Self.parseMessage(args) == message)
    }

    /// What `train --channels` help promises is what parses: multiples of 32, attention on any level.
    @Test func trainChannelsHelpMatchesWhatIsAccepted() throws {
        let train = try TrainCommand.parse(["--channels", "32,64,96", "--attention", "0,1,2", "--size", "16"])
        let config = try train.unetConfig(classes: 6, sampleSize: 16)
        #expect(config.blockOutChannels == [32, 64, 96])
        #expect(config.downBlockTypes == ["AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"])
        #expect(TrainCommand.helpMessage().contains("multiples of 32"))
        _ = try TrainCommand.parse(["--attention", ""])          // none
    }

    @Test(arguments: [
        (["nerf", "--steps", "4", "--stop-after", "0"], "--stop-after 0 is out of range: allowed 1…3"),
        (["nerf", "--steps", "4", "--stop-after", "-1"], "--stop-after -1 is out of range: allowed 1…3"),
        (["nerf", "--steps", "4", "--stop-after", "4"], "--stop-after 4 is out of range: allowed 1…3"),
        (["nerf", "--sampler", "sds", "--stop-after", "2"], "--stop-after applies to --sampler pullback (sds and sjc keep no checkpoint to resume)"),
    ])
    func stopAfterOutsideTheRunIsRefused(args: [String], message: String) {
        #expect(Self.parseMessage(args) == message)
    }

    @Test func maxMemoryMustBeASize() {
        #expect(Self.parseMessage(["nerf", "--max-memory", "banana"])
                == "--max-memory 'banana' is not a memory size: give a positive number of bytes with an optional K, M, G or T suffix, e.g. 16G")
        #expect(Self.parseMessage(["nerf", "--max-memory", "16G"]) == nil)
    }
}
