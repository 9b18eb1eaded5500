// What a run is estimated to need in memory, checked against a limit before it allocates.

import Foundation

/// The memory a run may use: by default ``defaultFraction`` of the machine's physical memory,
/// or what `--max-memory` says.
///
/// ```swift
/// let limit = try MemoryLimit(parsing: "12G", option: "--max-memory")   // 12 GiB
/// MemoryLimit.default.description                                        // "17.2 GB (75% of physical memory)"
/// ```
public struct MemoryLimit: Sendable, Equatable, CustomStringConvertible {
    /// The limit in bytes.
    public let bytes: Double
    /// Where it comes from, for messages ("75% of physical memory", "--max-memory 12G").
    public let source: String

    /// The share of physical memory a run may plan to use without `--max-memory`.
    public static let defaultFraction = 0.75

    /// ``defaultFraction`` of `ProcessInfo.physicalMemory`.
    public static var `default`: MemoryLimit {
        MemoryLimit(bytes: Double(ProcessInfo.processInfo.physicalMemory) * defaultFraction,
                    source: "\(Int(defaultFraction * 100))% of physical memory")
    }

    /// A limit of `bytes`, described by `source`.
    public init(bytes: Double, source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// Reads a size such as `512M`, `12G`, `1.5T` or a plain number of bytes (suffixes K, M, G, T
    /// are powers of 1024; a trailing `B` or `iB` is allowed).
    ///
    /// - Throws: ``MemoryLimitError`` naming `option` and the text when it is not such a size.
    public init(parsing text: String, option: String) throws(MemoryLimitError) {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var scale = 1.0
        if let last = t.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
            scale = pow(1024, Double(power))
            t.removeLast()
        }
        guard let number = Double(t), number.isFinite, number > 0 else {
            throw MemoryLimitError(option: option, text: text)
        }
        self.init(bytes: number * scale, source: "\(option) \(text)")
    }

    public var description: String { "\(MemoryEstimate.format(bytes)) (\(source))" }
}

/// A memory size that could not be read.
public struct MemoryLimitError: Error, CustomStringConvertible, Equatable {
    /// The option it was given to.
    public let option: String
    /// The text given.
    public let text: String

    /// The error for `text` given to `option`.
    public init(option: String, text: String) {
        self.option = option
        self.text = text
    }

    public var description: String {
        "\(option) '\(text)' is not a memory size: give a positive number of bytes with an optional K, M, G or T suffix, e.g. 16G"
    }
}

/// What a run will hold in memory at its peak, item by item, in bytes (as `Double`, so sizes a
/// user asks for never overflow an `Int` while being estimated).
///
/// ```swift
/// var estimate = MemoryEstimate()
/// estimate.add("turntable renders", floats: 4096.0 * 4096 * 1024 * 16)
/// try estimate.check(against: .default)   // throws ResourceLimitError: needs about 1.1 TB …
/// ```
public struct MemoryEstimate: Sendable, Equatable {
    /// The items, largest first once checked.
    public private(set) var items: [Item] = []

    /// One part of the estimate.
    public struct Item: Sendable, Equatable {
        /// What it is ("field parameters and optimiser state").
        public let name: String
        /// Its size in bytes.
        public let bytes: Double
    }

    /// An empty estimate.
    public init() {}

    /// Adds `bytes` for `name`.
    public mutating func add(_ name: String, bytes: Double) {
        items.append(Item(name: name, bytes: bytes))
    }

    /// Adds `floats` 32-bit floats for `name`.
    public mutating func add(_ name: String, floats: Double) {
        add(name, bytes: 4 * floats)
    }

    /// The sum of the items.
    public var total: Double { items.reduce(0) { $0 + $1.bytes } }

    /// Throws when ``total`` exceeds the limit.
    ///
    /// - Throws: ``ResourceLimitError`` with the total, the largest items and the limit.
    public func check(against limit: MemoryLimit) throws(ResourceLimitError) {
        guard total <= limit.bytes else { throw ResourceLimitError(estimate: self, limit: limit) }
    }

    /// `1.1 TB`, `340 MB`, `12 KB` (powers of 1024).
    public static func format(_ bytes: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, units[unit])
    }
}

/// A run refused before it allocates: it would need more memory than its limit.
///
/// ```swift
/// print(error)
/// // this run needs about 1.1 TB of memory (turntable renders 1.1 TB, …), more than the limit of
/// // 17 GB (75% of physical memory); use smaller sizes, or raise the limit with --max-memory
/// ```
public struct ResourceLimitError: Error, CustomStringConvertible, Equatable {
    /// The estimate that was refused.
    public let estimate: MemoryEstimate
    /// The limit it exceeded.
    public let limit: MemoryLimit

    public var description: String {
        let largest = estimate.items.sorted { $0.bytes > $1.bytes }.prefix(3)
            .map { "\($0.name) \(MemoryEstimate.format($0.bytes))" }.joined(separator: ", ")
        return "this run needs about \(MemoryEstimate.format(estimate.total)) of memory (\(largest)), more than the limit of \(limit); use smaller sizes, or raise the limit with --max-memory"
    }
}
