/// An ordered, named collection of trainable tensors (a model's state dict).
///
/// ```swift
/// var params = Parameters()
/// params["fc.weight"] = Tensor.parameter([4, 2], data: init)
/// for (name, p) in params { print(name, p.shape) }
/// ```
public struct Parameters: Sequence, @unchecked Sendable {
    public private(set) var names: [String] = []
    private var byName: [String: Tensor] = [:]

    public init() {}

    public init(_ pairs: [(String, Tensor)]) {
        for (n, t) in pairs { self[n] = t }
    }

    /// The tensor stored under `name` (setting marks it `requiresGrad` and names it).
    public subscript(name: String) -> Tensor? {
        get { byName[name] }
        set {
            if let t = newValue {
                if byName[name] == nil { names.append(name) }
                t.requiresGrad = true
                t.name = name
                byName[name] = t
            } else if byName.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    public var count: Int { names.count }
    /// Total number of scalar values.
    public var scalarCount: Int { names.reduce(0) { $0 + byName[$1]!.count } }
    public var tensors: [Tensor] { names.map { byName[$0]! } }

    public func makeIterator() -> AnyIterator<(String, Tensor)> {
        var i = 0
        return AnyIterator {
            guard i < names.count else { return nil }
            defer { i += 1 }
            return (names[i], byName[names[i]]!)
        }
    }

    /// Clears every gradient.
    public func zeroGrad() { for t in tensors { t.grad = nil } }
}
