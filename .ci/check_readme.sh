#!/usr/bin/env bash
# Builds the README's Swift code blocks as a package that depends on this one by path, so the
# documentation cannot drift from the public API (a debug build: it only has to compile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/ReadmeExample"
ln -s "$root" "$work/Diffreps"
awk '/^```swift$/ { inside = 1; next } /^```$/ { inside = 0 } inside' "$root/README.md" > "$work/Sources/ReadmeExample/main.swift"
[ -s "$work/Sources/ReadmeExample/main.swift" ] || { echo "README.md has no swift code block"; exit 1; }
cat > "$work/Package.swift" <<'PKG'
// swift-tools-version:6.0
import PackageDescription
let products = ["TensorCore", "PNGIO", "Diffusion", "Diffreps", "Sampling", "Toys", "Evaluation", "DefaultModel"]
let package = Package(
    name: "ReadmeExample",
    dependencies: [.package(path: "Diffreps")],
    targets: [.executableTarget(name: "ReadmeExample",
                                dependencies: products.map { .product(name: $0, package: "Diffreps") })])
PKG
echo "building the README's Swift code ($(wc -l < "$work/Sources/ReadmeExample/main.swift") lines) against the package"
swift build --package-path "$work" --scratch-path "$root/.build/readme-check"
echo "README code builds"
