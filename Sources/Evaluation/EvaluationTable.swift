import Foundation

/// Rows of ``SampleMetrics`` as an aligned text table (for the terminal) and as markdown (for
/// the README and notes). 3D columns show the figure with its ratio to real toys.
///
/// ```swift
/// print(EvaluationTable(rows: rows, classNames: ["sphere", "box"]).text)
/// ```
public struct EvaluationTable {
    public var rows: [SampleMetrics]
    /// Names of the class labels (numbers are shown where a name is missing).
    public var classNames: [String]

    public init(rows: [SampleMetrics], classNames: [String]) {
        self.rows = rows
        self.classNames = classNames
    }

    public static let headers = ["class", "sampler", "n", "recognised", "P(class)", "KID×10³", "diversity (real)",
                                 "silhouette Δ (×real)", "view-consistent Δ (×real)"]

    func className(_ label: Int?) -> String {
        guard let label else { return "any" }
        return label < classNames.count ? classNames[label] : "\(label)"
    }

    /// Each row's cells, in ``headers`` order.
    public var cells: [[String]] {
        rows.map { r in
            func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
            func withRatio(_ v: Double?, _ ratio: Double?) -> String {
                guard let v else { return "—" }
                return f(v, 3) + (ratio.map { " (" + f($0, 2) + ")" } ?? "")
            }
            return [
                className(r.classLabel), r.name, "\(r.samples)",
                r.recognisability.map { f(100 * $0.accuracy, 0) + "%" } ?? "—",
                r.recognisability.map { f($0.meanProbability, 2) } ?? "—",
                f(r.kid, 1) + " ± " + f(r.kidStandardError, 1),
                f(r.diversity, 2) + " (" + f(r.realDiversity, 2) + ")",
                withRatio(r.silhouetteChange, r.silhouetteRatio),
                withRatio(r.viewChange, r.viewChangeRatio),
            ]
        }
    }

    /// Space-aligned columns.
    public var text: String {
        let all = [Self.headers] + cells
        let widths = Self.headers.indices.map { c in all.map { $0[c].count }.max()! }
        return all.map { row in
            row.enumerated().map { c, s in String(repeating: " ", count: widths[c] - s.count) + s }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// A markdown table.
    public var markdown: String {
        var lines = ["| " + Self.headers.joined(separator: " | ") + " |",
                     "|" + Self.headers.map { _ in "---" }.joined(separator: "|") + "|"]
        lines += cells.map { "| " + $0.joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }
}
