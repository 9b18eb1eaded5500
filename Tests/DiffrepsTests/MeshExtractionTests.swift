import Foundation
import Testing
import TensorCore
@testable import Diffreps

/// Marching cubes on voxel-grid NeRFs: topology, geometry, orientation and colours of the
/// mesh, and the PLY / OBJ files it is written to.
@Suite struct MeshExtractionTests {
    // MARK: - Scenes

    /// Grid point `(x, y, z)` of an `n³` grid over `box`, in world coordinates.
    static func gridPoint(_ x: Int, _ y: Int, _ z: Int, n: Int, box: SceneBox) -> SIMD3<Float> {
        SIMD3(Float(x), Float(y), Float(z)) * (2 * box.halfExtent / Float(n - 1)) - box.halfExtent
    }

    /// A field whose density crosses `threshold` (default: the field's default) where `inside`,
    /// a signed distance (positive inside), is 0: raw = log σ_threshold − bias + 4·distance, and
    /// whose colour is `color(p)` (in [-1, 1]) at every grid point.
    static func field(n: Int, threshold: Float? = nil, inside: (SIMD3<Float>) -> Float,
                      color: (SIMD3<Float>) -> SIMD3<Float> = { _ in [0, 0, 0] }) -> VoxelGridField {
        let f = VoxelGridField(resolution: n)
        let level = Foundation.log(threshold ?? f.defaultMeshThreshold) - f.densityBias
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            let p = gridPoint(x, y, z, n: n, box: f.box)
            let i = (z * n + y) * n + x
            f.density.data[i] = level + 4 * inside(p)
            let c = color(p)
            for ch in 0..<3 { f.color.data[ch * n * n * n + i] = Foundation.atanh(Swift.min(Swift.max(c[ch], -0.999), 0.999)) }
        }}}
        return f
    }

    static func sphere(radius: Float) -> (SIMD3<Float>) -> Float {
        { p in radius - (p * p).sum().squareRoot() }
    }

    // MARK: - Mesh checks

    /// Whether every directed edge `a → b` of the triangles appears once and `b → a` once too
    /// (a closed, consistently oriented 2-manifold), plus the Euler characteristic V − E + F.
    static func topology(_ mesh: TriangleMesh) -> (closedOriented: Bool, euler: Int, badEdges: Int) {
        var directed: [SIMD2<Int32>: Int] = [:]
        for t in mesh.triangles {
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] { directed[SIMD2(a, b), default: 0] += 1 }
        }
        var bad = 0
        for (e, count) in directed where count != 1 || directed[SIMD2(e.y, e.x)] != 1 { bad += 1 }
        let euler = mesh.vertices.count - directed.count / 2 + mesh.triangles.count
        return (bad == 0, euler, bad)
    }

    /// `Σ a·(b × c) / 6`: the enclosed volume when normals point outward.
    static func signedVolume(_ mesh: TriangleMesh) -> Double {
        var sum: Double = 0
        for t in mesh.triangles {
            let a = SIMD3<Double>(mesh.vertices[Int(t.x)]), b = SIMD3<Double>(mesh.vertices[Int(t.y)])
            let c = SIMD3<Double>(mesh.vertices[Int(t.z)])
            sum += (a * SIMD3(b.y * c.z - b.z * c.y, b.z * c.x - b.x * c.z, b.x * c.y - b.y * c.x)).sum()
        }
        return sum / 6
    }

    static func cross(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> SIMD3<Float> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    // MARK: - Geometry and topology

    @Test func sphereIsClosedOutwardAndOnTheRadius() throws {
        let n = 40, r: Float = 0.9
        let f = Self.field(n: n, inside: Self.sphere(radius: r))
        let mesh = f.extractMesh()
        let voxel = 2 * f.box.halfExtent / Float(n - 1)
        #expect(mesh.triangles.count > 1000)
        let topo = Self.topology(mesh)
        #expect(topo.closedOriented, "\(topo.badEdges) edges not shared by exactly two opposite triangles")
        #expect(topo.euler == 2)
        let worst = mesh.vertices.map { abs(($0 * $0).sum().squareRoot() - r) }.max() ?? 1
        #expect(worst < 0.1 * voxel, "vertex \(worst) off the sphere (voxel \(voxel))")
        let exact = 4.0 / 3 * Double.pi * Double(r * r * r)
        let volume = Self.signedVolume(mesh)
        #expect(abs(volume - exact) < 0.02 * exact, "volume \(volume) vs \(exact)")
        // Every triangle faces away from the centre.
        var inward = 0
        for t in mesh.triangles {
            let a = mesh.vertices[Int(t.x)], b = mesh.vertices[Int(t.y)], c = mesh.vertices[Int(t.z)]
            if (Self.cross(b - a, c - a) * (a + b + c)).sum() <= 0 { inward += 1 }
        }
        #expect(inward == 0, "\(inward) of \(mesh.triangles.count) triangles face inward")
    }

    @Test func resampledResolutionGivesAFinerClosedSphere() {
        let n = 24, r: Float = 0.8
        let f = Self.field(n: n, inside: Self.sphere(radius: r))
        let coarse = f.extractMesh()
        let fine = f.extractMesh(resolution: 57)
        #expect(fine.triangles.count > 4 * coarse.triangles.count)
        let topo = Self.topology(fine)
        #expect(topo.closedOriented && topo.euler == 2, "bad edges \(topo.badEdges), euler \(topo.euler)")
        let voxel = 2 * f.box.halfExtent / Float(n - 1)
        let worst = fine.vertices.map { abs(($0 * $0).sum().squareRoot() - r) }.max() ?? 1
        #expect(worst < 0.1 * voxel)
        let exact = 4.0 / 3 * Double.pi * Double(r * r * r)
        #expect(abs(Self.signedVolume(fine) - exact) < 0.02 * exact)
    }

    @Test func thresholdMovesTheSurface() {
        // With raw = level + 4·(r − |p|), density τ·e^(4(r − |p|)): the surface at σ = τ·e⁴ sits
        // a distance 1 inside radius 1.3 (at radius 0.3), and each activation inverts correctly.
        let f = Self.field(n: 32, inside: Self.sphere(radius: 1.3))
        let tau = f.defaultMeshThreshold
        for activation in [VoxelGridField.DensityActivation.exp, .softplus] {
            f.densityActivation = activation
            // The raw level that gives σ = τ·e⁴ under exp: for softplus, ask for softplus of it.
            let raw = Foundation.log(tau) - f.densityBias + 4
            let sigma = activation == .exp ? tau * Foundation.exp(4) : Foundation.log1p(Foundation.exp(raw + f.densityBias))
            let mesh = f.extractMesh(threshold: sigma)
            let radii = mesh.vertices.map { ($0 * $0).sum().squareRoot() }
            #expect(!radii.isEmpty && radii.allSatisfy { abs($0 - 0.3) < 0.01 }, "\(activation): radii \(radii.min() ?? 0)…\(radii.max() ?? 0)")
        }
        // exp is clamped at e¹⁵: a threshold above it is never reached.
        f.densityActivation = .exp
        #expect(f.extractMesh(threshold: 4e6).isEmpty)
    }

    @Test func emptyFieldGivesAnEmptyMesh() throws {
        let f = VoxelGridField(resolution: 8)          // σ ≈ 0.018 everywhere
        let mesh = f.extractMesh()
        #expect(mesh.isEmpty && mesh.vertices.isEmpty && mesh.colors.isEmpty)
        #expect(f.extractMesh(resolution: 13).isEmpty)
        // It still writes valid, empty files.
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try mesh.write(to: dir.appendingPathComponent("empty.ply"))
        try mesh.write(to: dir.appendingPathComponent("empty.obj"))
        let ply = try Self.parsePLY(Array(Data(contentsOf: dir.appendingPathComponent("empty.ply"))))
        #expect(ply.vertices.isEmpty && ply.triangles.isEmpty)
    }

    @Test func solidReachingTheBoxIsCappedThere() {
        // Everything dense: with closeBoundary the mesh is the box itself, else nothing.
        let f = Self.field(n: 6, inside: { _ in 1 })
        let capped = f.extractMesh()
        let topo = Self.topology(capped)
        #expect(topo.closedOriented && topo.euler == 2)
        let side = Double(2 * f.box.halfExtent)
        #expect(abs(Self.signedVolume(capped) - side * side * side) < 1e-4 * side * side * side)
        let bound = f.box.halfExtent + 1e-6
        #expect(capped.vertices.allSatisfy { v in abs(v.x) <= bound && abs(v.y) <= bound && abs(v.z) <= bound })
        #expect(f.extractMesh(closeBoundary: false).isEmpty)
        // A sphere cut by the box: open without caps, closed with them.
        let cut = Self.field(n: 20, inside: Self.sphere(radius: 1.8))
        #expect(!Self.topology(cut.extractMesh(closeBoundary: false)).closedOriented)
        let closed = Self.topology(cut.extractMesh())
        #expect(closed.closedOriented && closed.euler == 2)
    }

    @Test(arguments: [1, 2, 3, 4]) func noiseFieldsGiveClosedOrientedMeshes(seed: UInt64) {
        // Random values hit every case, ambiguous faces included (about a third of the
        // surface cubes here have one); the decider must cut shared faces alike.
        var rng = RandomGenerator(seed: seed)
        let d = 9, h = 10, w = 11
        let values = rng.uniform([d * h * w], in: -1...1).data
        let (vertices, triangles) = MarchingCubes.extract(values: values, depth: d, height: h, width: w,
                                                          isoLevel: 0.1 * Float(seed) - 0.2)
        let mesh = TriangleMesh(vertices: vertices, colors: vertices.map { _ in [0, 0, 0] }, triangles: triangles)
        #expect(triangles.count > 500)
        let topo = Self.topology(mesh)
        #expect(topo.closedOriented, "\(topo.badEdges) bad edges")
        // Closed and outward: the enclosed volume is positive and at most the padded box's.
        let volume = Self.signedVolume(mesh)
        #expect(volume > 0 && volume < Double((d - 1) * (h - 1) * (w - 1)))
        #expect(vertices.allSatisfy { v in v.x >= 0 && v.y >= 0 && v.z >= 0 && v.x <= Float(w - 1) && v.y <= Float(h - 1) && v.z <= Float(d - 1) })
    }

    @Test func caseTableLoopsCoverEveryCrossedEdgeOnce() {
        let table = MarchingCubesTable.shared
        var centroidLoops = 0
        for configuration in 0..<(256 * 64) {
            var crossed = Set<Int>()
            for e in 0..<12 {
                let (a, b) = table.edgeCorners[e]
                if (configuration >> Int(a)) & 1 != (configuration >> Int(b)) & 1 { crossed.insert(e) }
            }
            var seen: [Int] = []
            var i = Int(table.offsets[configuration])
            while table.loops[i] != 0 {
                let n = Int(table.loops[i]) & 0x7f
                if table.loops[i] & 0x80 != 0 { centroidLoops += 1 }
                #expect(n >= 3)
                seen += (0..<n).map { Int(table.loops[i + 1 + $0]) }
                i += 1 + n
            }
            #expect(seen.count == crossed.count && Set(seen) == crossed, "configuration \(configuration)")
        }
        // Case 1 (corner 0 alone inside): one triangle over its three edges.
        let one = Int(table.offsets[1])
        #expect(table.loops[one] == 3 && Set(table.loops[(one + 1)...(one + 3)]) == [0, 4, 8] && table.loops[one + 4] == 0)
        // Centroids are rare: only loops that pass a face twice need them.
        #expect(centroidLoops < 256 * 64 / 8)
    }

    // MARK: - Colours

    @Test func colorsComeFromTheColorField() {
        // Red for x < 0, blue for x > 0.
        let f = Self.field(n: 32, inside: Self.sphere(radius: 0.9), color: { p in p.x < 0 ? [0.9, -0.9, -0.9] : [-0.9, -0.9, 0.9] })
        let mesh = f.extractMesh()
        let red = SIMD3<UInt8>(242, 13, 13), blue = SIMD3<UInt8>(13, 13, 242)   // (±0.9 + 1)·127.5
        let voxel = 2 * f.box.halfExtent / 31
        var reds = 0, blues = 0
        for (p, c) in zip(mesh.vertices, mesh.colors) where abs(p.x) > voxel {
            #expect(c == (p.x < 0 ? red : blue), "vertex \(p): colour \(c)")
            if c == red { reds += 1 } else if c == blue { blues += 1 }
        }
        #expect(reds > 100 && blues > 100)
        // A one-channel field gives grey.
        let grey = VoxelGridField(density: f.density, color: Tensor([1, 1, 32, 32, 32], repeating: 0))
        #expect(grey.extractMesh().colors.allSatisfy { $0 == SIMD3(repeating: 128) })
    }

    // MARK: - Files

    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A small PLY reader (binary little-endian or ASCII) for exactly the layout the writer uses.
    static func parsePLY(_ bytes: [UInt8]) throws -> (vertices: [SIMD3<Float>], colors: [SIMD3<UInt8>], triangles: [SIMD3<Int32>]) {
        let marker = Array("end_header\n".utf8)
        let end = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        let header = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\n")
        #expect(header.first == "ply")
        let count = { (element: String) in Int(header.first { $0.hasPrefix("element \(element) ") }!.split(separator: " ")[2])! }
        let nv = count("vertex"), nf = count("face")
        var vertices: [SIMD3<Float>] = [], colors: [SIMD3<UInt8>] = [], triangles: [SIMD3<Int32>] = []
        let body = Array(bytes[(end + marker.count)...])
        if header.contains("format ascii 1.0") {
            let lines = String(decoding: body, as: UTF8.self).split(separator: "\n")
            #expect(lines.count == nv + nf)
            for line in lines.prefix(nv) {
                let f = line.split(separator: " ")
                vertices.append(SIMD3(Float(f[0])!, Float(f[1])!, Float(f[2])!))
                colors.append(SIMD3(UInt8(f[3])!, UInt8(f[4])!, UInt8(f[5])!))
            }
            for line in lines.dropFirst(nv) {
                let f = line.split(separator: " ").map { Int32($0)! }
                #expect(f[0] == 3)
                triangles.append(SIMD3(f[1], f[2], f[3]))
            }
        } else {
            #expect(header.contains("format binary_little_endian 1.0"))
            #expect(body.count == nv * 15 + nf * 13)
            func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(body[o + $1]) << (8 * $1) } }
            for i in 0..<nv {
                let o = 15 * i
                vertices.append(SIMD3(Float(bitPattern: u32(o)), Float(bitPattern: u32(o + 4)), Float(bitPattern: u32(o + 8))))
                colors.append(SIMD3(body[o + 12], body[o + 13], body[o + 14]))
            }
            for i in 0..<nf {
                let o = 15 * nv + 13 * i
                #expect(body[o] == 3)
                triangles.append(SIMD3(Int32(bitPattern: u32(o + 1)), Int32(bitPattern: u32(o + 5)), Int32(bitPattern: u32(o + 9))))
            }
        }
        return (vertices, colors, triangles)
    }

    /// A small OBJ reader for `v x y z r g b` and `f i j k` lines.
    static func parseOBJ(_ text: String) -> (vertices: [SIMD3<Float>], colors: [SIMD3<Float>], triangles: [SIMD3<Int32>]) {
        var vertices: [SIMD3<Float>] = [], colors: [SIMD3<Float>] = [], triangles: [SIMD3<Int32>] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.first == "v" {
                let x = f.dropFirst().map { Float($0)! }
                vertices.append(SIMD3(x[0], x[1], x[2]))
                colors.append(SIMD3(x[3], x[4], x[5]))
            } else if f.first == "f" {
                let i = f.dropFirst().map { Int32($0)! - 1 }
                triangles.append(SIMD3(i[0], i[1], i[2]))
            }
        }
        return (vertices, colors, triangles)
    }

    @Test func filesReadBackWithTheSameMesh() throws {
        let f = Self.field(n: 12, inside: Self.sphere(radius: 0.8), color: { p in [p.x, p.y, -p.z] })
        let mesh = f.extractMesh()
        #expect(mesh.triangles.count > 100)
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }

        try mesh.write(to: dir.appendingPathComponent("sphere.ply"))
        let binary = try Self.parsePLY(Array(Data(contentsOf: dir.appendingPathComponent("sphere.ply"))))
        #expect(binary.vertices == mesh.vertices && binary.colors == mesh.colors && binary.triangles == mesh.triangles)

        let ascii = try Self.parsePLY(mesh.plyBytes(format: .ascii))
        #expect(ascii.vertices == mesh.vertices && ascii.colors == mesh.colors && ascii.triangles == mesh.triangles)

        try mesh.write(to: dir.appendingPathComponent("sphere.OBJ"))
        let obj = Self.parseOBJ(try String(contentsOf: dir.appendingPathComponent("sphere.OBJ"), encoding: .utf8))
        #expect(obj.vertices == mesh.vertices && obj.triangles == mesh.triangles)
        #expect(zip(obj.colors, mesh.colors).allSatisfy { read, byte in
            let back = (read * 255).rounded(.toNearestOrAwayFromZero)
            return back == SIMD3(Float(byte.x), Float(byte.y), Float(byte.z))
        })

        // Nothing but the two files is left in the folder (no temporary files).
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["sphere.OBJ", "sphere.ply"])
    }

    @Test func badDestinationsThrowClearErrors() throws {
        let mesh = TriangleMesh(vertices: [[0, 0, 0], [1, 0, 0], [0, 1, 0]], colors: [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
                                triangles: [[0, 1, 2]])
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stl = dir.appendingPathComponent("mesh.stl")
        #expect(throws: MeshFileError.unsupportedExtension(path: stl.path, pathExtension: "stl")) { try mesh.write(to: stl) }
        do { try mesh.write(to: stl) } catch { #expect("\(error)".contains("'.stl'")) }
        #expect(!FileManager.default.fileExists(atPath: stl.path))
        let missing = dir.appendingPathComponent("no/such/folder/mesh.ply")
        #expect(throws: MeshFileError.self) { try mesh.write(to: missing) }
        do { try mesh.write(to: missing) } catch {
            #expect("\(error)" == "cannot write mesh '\(missing.path)': No such file or directory")
        }
    }
}
