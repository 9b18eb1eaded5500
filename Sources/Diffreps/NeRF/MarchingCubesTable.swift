/// The marching-cubes case table, derived once from the cube's geometry instead of typed in.
///
/// Cube corner `c` (0…7) sits at `(c & 1, c >> 1 & 1, c >> 2 & 1)`; a configuration is the
/// 8-bit set of inside corners plus 6 bits that say, for each face whose corners alternate
/// inside/outside, whether its two inside corners are joined (`1`) or cut apart (`0`). For a
/// configuration the surface inside the cube is built in three steps:
///
/// 1. **Face segments.** Walk each face's four edges counter-clockwise seen from outside the
///    cube. An edge whose corners differ is crossed by the surface: an *entry* when the walk
///    goes from outside to inside, an *exit* otherwise. Entries and exits alternate, so a face
///    holds 0, 1 or 2 segments, each drawn from an entry to an exit: to the next exit on the
///    walk (cutting an inside corner off) or, on an ambiguous face whose inside corners are
///    joined, to the previous one. Drawn that way, every segment has the inside on its right
///    seen from outside the cube.
/// 2. **Loops.** Each crossed edge borders two faces and the walks of the two faces run along
///    it in opposite directions, so it is an entry on one face and an exit on the other:
///    following entry → exit from face to face visits every crossed edge exactly once and
///    splits them into closed loops.
/// 3. **Triangles.** Each loop bounds one patch of surface; the inside is on the right of its
///    edges seen from outside the cube, so a fan `(v₀, vᵢ, vᵢ₊₁)` over the loop has normals
///    pointing out of the inside. A fan diagonal that joins two vertices of one cube face
///    could be drawn by the neighbouring cube as well (four triangles on one edge): such a
///    loop starts its fan at a vertex with no such diagonal, and when no start vertex works it
///    gets a centroid vertex and one triangle per loop edge instead.
///
/// Because a face's segments depend only on its own corners (and the decider bit), the two
/// cubes that share a face draw the same segments, in opposite directions: the surface is a
/// closed, consistently oriented manifold wherever it does not leave the grid.
struct MarchingCubesTable: Sendable {
    /// The shared table (built on first use, about a millisecond).
    static let shared = MarchingCubesTable()

    /// The two corners of each edge, lower one first (edges 0–3 run along x, 4–7 along y, 8–11 along z).
    let edgeCorners: [(UInt8, UInt8)]
    /// The axis (0 = x, 1 = y, 2 = z) of each edge.
    let edgeAxis: [UInt8]
    /// The corners of face `f = 2·axis + side` in the order `(0,0), (1,0), (1,1), (0,1)` of its
    /// axes `u = axis + 1`, `v = axis + 2` (mod 3): the same order for both cubes that share the
    /// face, so both evaluate the decider identically.
    let faceCorners: [(Int, Int, Int, Int)]
    /// Per 8-bit case, the faces (bit f) whose corners alternate inside/outside.
    let ambiguousFaces: [UInt8]
    /// Start in ``loops`` of configuration `case | faceBits << 8`.
    let offsets: [Int32]
    /// Per configuration, its loops then a 0: each loop is a header `n | 0x80·centroid` followed
    /// by the `n` edges it crosses, in order, rotated so that its fan may start at the first.
    let loops: [UInt8]

    init() {
        var edgeCorners: [(UInt8, UInt8)] = [], edgeAxis: [UInt8] = []
        for axis in 0..<3 {
            for c in 0..<8 where c & (1 << axis) == 0 {
                edgeCorners.append((UInt8(c), UInt8(c | 1 << axis)))
                edgeAxis.append(UInt8(axis))
            }
        }
        var edgeOf = [[Int]](repeating: [Int](repeating: -1, count: 8), count: 8)
        for (e, (a, b)) in edgeCorners.enumerated() { edgeOf[Int(a)][Int(b)] = e; edgeOf[Int(b)][Int(a)] = e }

        // Faces: canonical corner order and the counter-clockwise walk seen from outside.
        // (e_u × e_v = e_axis, so the canonical order is counter-clockwise seen from +axis.)
        var faceCorners: [(Int, Int, Int, Int)] = [], faceWalk: [[Int]] = []
        for axis in 0..<3 {
            let u = (axis + 1) % 3, v = (axis + 2) % 3
            for side in 0..<2 {
                let k = [(0, 0), (1, 0), (1, 1), (0, 1)].map { side << axis | $0.0 << u | $0.1 << v }
                faceCorners.append((k[0], k[1], k[2], k[3]))
                faceWalk.append(side == 1 ? k : k.reversed())
            }
        }
        var facesOfEdge = [Set<Int>](repeating: [], count: 12)
        for f in 0..<6 { for k in 0..<4 { facesOfEdge[edgeOf[faceWalk[f][k]][faceWalk[f][(k + 1) % 4]]].insert(f) } }

        var ambiguousFaces = [UInt8](repeating: 0, count: 256)
        for cubeCase in 0..<256 {
            for f in 0..<6 {
                let (a, b, c, d) = faceCorners[f]
                let inside = { (corner: Int) in cubeCase & (1 << corner) != 0 }
                if inside(a) == inside(c) && inside(b) == inside(d) && inside(a) != inside(b) {
                    ambiguousFaces[cubeCase] |= UInt8(1 << f)
                }
            }
        }

        var offsets: [Int32] = [], loops: [UInt8] = []
        for configuration in 0..<(256 * 64) {
            offsets.append(Int32(loops.count))
            let inside = { (corner: Int) in configuration & (1 << corner) != 0 }
            // 1. Face segments: next[entry edge] = exit edge.
            var next = [Int](repeating: -1, count: 12)
            for f in 0..<6 {
                let walk = faceWalk[f]
                let edge = { (k: Int) in edgeOf[walk[k % 4]][walk[(k + 1) % 4]] }
                var entries: [Int] = []
                for k in 0..<4 where !inside(walk[k]) && inside(walk[(k + 1) % 4]) { entries.append(k) }
                if entries.count == 1 {
                    // One entry, one exit: the exit is the next crossed edge on the walk.
                    var k = entries[0] + 1
                    while inside(walk[k % 4]) == inside(walk[(k + 1) % 4]) { k += 1 }
                    next[edge(entries[0])] = edge(k)
                } else if entries.count == 2 {
                    // All four edges crossed: exits sit at k ± 1.
                    let joined = configuration & (1 << (8 + f)) != 0
                    for k in entries { next[edge(k)] = edge(joined ? k + 3 : k + 1) }
                }
            }
            // 2. Loops.
            var visited = [Bool](repeating: false, count: 12)
            for start in 0..<12 where next[start] >= 0 && !visited[start] {
                var loop: [Int] = []
                var e = start
                while !visited[e] {
                    visited[e] = true
                    loop.append(e)
                    e = next[e]
                    precondition(e >= 0, "MarchingCubesTable: open loop in configuration \(configuration)")
                }
                precondition(e == start, "MarchingCubesTable: loops cross in configuration \(configuration)")
                // 3. A fan start whose diagonals join no two vertices of one face, if any.
                let n = loop.count
                let fanStart = (0..<n).first { r in
                    n <= 3 || (2...(n - 2)).allSatisfy { i in
                        facesOfEdge[loop[r]].isDisjoint(with: facesOfEdge[loop[(r + i) % n]])
                    }
                }
                loops.append(UInt8(n | (fanStart == nil ? 0x80 : 0)))
                let r = fanStart ?? 0
                for i in 0..<n { loops.append(UInt8(loop[(r + i) % n])) }
            }
            loops.append(0)
        }
        offsets.append(Int32(loops.count))

        self.edgeCorners = edgeCorners
        self.edgeAxis = edgeAxis
        self.faceCorners = faceCorners
        self.ambiguousFaces = ambiguousFaces
        self.offsets = offsets
        self.loops = loops
    }
}
