/// The radiance fields the package ships, by name: what `diffrep nerf --field` chooses from and
/// what a run's manifest records, so a script can build the same field from the same setting.
///
/// ```swift
/// let nerf = NeRFDiffrep(field: RadianceFieldKind.grid.make(resolution: 32, seed: 1), imageSize: 32)
/// let field = RadianceFieldKind(rawValue: "hash")!.make(seed: 7)        // a HashGridField
/// ```
public enum RadianceFieldKind: String, Sendable, CaseIterable {
    /// ``VoxelGridField``: a dense grid of raw density and colour (the default).
    case grid
    /// ``HashGridField``: a multiresolution hash grid and a small MLP.
    case hash

    /// The voxel grid's resolution per axis unless a run says otherwise.
    public static let defaultGridResolution = 32

    /// The hash grid's MLP width unless a run says otherwise.
    public static let defaultHashWidth = HashGridField.defaultHiddenWidth
    /// The hash grid's finest level (cells per axis) unless a run says otherwise.
    public static let defaultHashFinestResolution = HashGridField.defaultEncoding.finestResolution
    /// What hash-grid runs recorded before their settings named width and levels used (64 wide,
    /// levels up to 128): how such a run folder is read back.
    public static let legacyHashWidth = 64, legacyHashFinestResolution = 128

    /// A fresh field: an empty voxel grid of `resolution`³ cells, or a hash grid whose MLP
    /// (`hashWidth` units per hidden layer) is initialised from `seed`, its levels growing from 8
    /// to `hashFinest` cells per axis (`resolution` is not used); `channels` colour channels (4
    /// for a Stable Diffusion latent NeRF).
    public func make(resolution: Int = RadianceFieldKind.defaultGridResolution, seed: UInt64 = 0, channels: Int = 3,
                     hashWidth: Int = RadianceFieldKind.defaultHashWidth,
                     hashFinest: Int = RadianceFieldKind.defaultHashFinestResolution) -> any RadianceField {
        switch self {
        case .grid:
            return VoxelGridField(resolution: resolution, channels: channels)
        case .hash:
            var encoding = HashGridField.defaultEncoding
            encoding.finestResolution = hashFinest
            return HashGridField(encoding: encoding, hiddenWidth: hashWidth, channels: channels, seed: seed)
        }
    }
}
