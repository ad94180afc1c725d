import Foundation
import Kernel

/// LLaVA-OneVision's "anyres" image processing as transformers' `LlavaOnevisionImageProcessorPil` does it.
///
/// One image in a prompt: the grid resolution from `gridPinpoints` that keeps the most of the image and wastes
/// the least (`selectBestResolution`); the image resized to fit it keeping its aspect ratio (sides rounded up),
/// centred on black padding, cut into `tileSize` tiles row by row; the whole image resized to one tile goes
/// first. Several images in a prompt: no tiles, each padded to a square with the mean colour and resized.
/// Every tile then goes through `tile` (rescale and normalize; a resize that does nothing at tile size).
public struct AnyResImageProcessor: Sendable, Equatable {
    /// Rescale, normalize and the resample filter; its resize is the tile size (`Resize.exact`).
    public var tile: ImageProcessor
    /// Candidate grid resolutions as (height, width), multiples of the tile size.
    public var gridPinpoints: [[Int]]

    public init(tile: ImageProcessor, gridPinpoints: [[Int]]) {
        self.tile = tile
        self.gridPinpoints = gridPinpoints
    }

    /// The tile's (height, width).
    public var tileSize: (height: Int, width: Int) {
        if case .exact(let h, let w) = tile.resize { return (h, w) }
        if case .shortestEdge(let n) = tile.resize { return (n, n) }
        return (384, 384)
    }

    /// transformers' `select_best_resolution`: the most effective pixels, then the fewest wasted.
    public static func selectBestResolution(height: Int, width: Int, candidates: [[Int]]) -> (height: Int, width: Int) {
        var best = (height: candidates.first?[0] ?? height, width: candidates.first?[1] ?? width)
        var maxEffective = 0
        var minWasted = Int.max
        for candidate in candidates where candidate.count == 2 {
            let (h, w) = (candidate[0], candidate[1])
            let scale = min(Double(w) / Double(width), Double(h) / Double(height))
            let downscaled = Int(Double(width) * scale) * Int(Double(height) * scale)
            let effective = min(downscaled, width * height)
            let wasted = w * h - effective
            if effective > maxEffective || (effective == maxEffective && wasted < minWasted) {
                maxEffective = effective
                minWasted = wasted
                best = (h, w)
            }
        }
        return best
    }

    /// transformers' `get_patch_output_size`: the size that fits `target` keeping the aspect ratio.
    static func fittedSize(height: Int, width: Int, target: (height: Int, width: Int)) -> (height: Int, width: Int) {
        let scaleW = Double(target.width) / Double(width)
        let scaleH = Double(target.height) / Double(height)
        if scaleW < scaleH {
            return (min(Int((Double(height) * scaleW).rounded(.up)), target.height), target.width)
        }
        return (target.height, min(Int((Double(width) * scaleH).rounded(.up)), target.width))
    }

    /// The 8-bit tiles of one image alone in its prompt: the whole image first, then the grid row by row.
    public func tiles(_ image: Image) -> [Image] {
        let size = tileSize
        let grid = Self.selectBestResolution(height: image.height, width: image.width, candidates: gridPinpoints)
        let fitted = Self.fittedSize(height: image.height, width: image.width, target: grid)
        let resized = image.resized(width: fitted.width, height: fitted.height, filter: tile.filter)
        // Centred on black: the extra pixel of an odd margin goes after (transformers' _get_padding_size).
        let padded = resized.placed(
            onWidth: grid.width, height: grid.height, left: (grid.width - fitted.width) / 2,
            top: (grid.height - fitted.height) / 2, background: (0, 0, 0))
        var out = [image.resized(width: size.width, height: size.height, filter: tile.filter)]
        for top in stride(from: 0, to: grid.height, by: size.height) {
            for left in stride(from: 0, to: grid.width, by: size.width) {
                out.append(
                    padded.placed(
                        onWidth: min(size.width, grid.width - left), height: min(size.height, grid.height - top),
                        left: -left, top: -top, background: (0, 0, 0)))
            }
        }
        return out
    }

    /// The 8-bit image of one of several images in a prompt: padded to a square with the mean colour
    /// (`int(mean * 255)` per channel), then resized to the tile size.
    public func multiImageTile(_ image: Image) -> Image {
        let side = max(image.width, image.height)
        let mean = tile.mean ?? ImageProcessor.clipMean
        func level(_ c: Int) -> UInt8 {
            // int(mean * 255), kept to a byte (a mean outside 0...1 only makes sense clamped).
            UInt8(min(max(Double(mean[c % mean.count]) * 255, 0), 255).rounded(.towardZero))
        }
        let square = image.placed(
            onWidth: side, height: side, left: (side - image.width) / 2, top: (side - image.height) / 2,
            background: (level(0), level(1), level(2)))
        let size = tileSize
        return square.resized(width: size.width, height: size.height, filter: tile.filter)
    }

    /// `pixel_values` of one image: [tiles, 3, tile height, tile width]; `alone` is false for one of several
    /// images in a prompt.
    public func pixelValues(_ image: Image, alone: Bool = true) -> (shape: [Int], values: [Float]) {
        tile.pixelValues(alone ? tiles(image) : [multiImageTile(image)])
    }
}

extension AnyResImageProcessor {
    /// LLaVA-OneVision's default grid: every (height, width) from 384 to 2304 in steps of 384.
    public static let defaultPinpoints: [[Int]] = (1...6).flatMap { h in (1...6).map { w in [384 * h, 384 * w] } }

    public static func read(_ url: URL) throws -> AnyResImageProcessor {
        try parse(ConfigJSON.contents(of: url, purpose: "the image processor's settings"), file: url.path)
    }

    /// `preprocessor_config.json` (or `processor_config.json`) of a LLaVA-OneVision checkpoint: the tile
    /// size is `size` (default 384 x 384), no centre crop unless asked, and `image_grid_pinpoints`.
    public static func parse(_ data: Data, file: String) throws -> AnyResImageProcessor {
        let root = try ConfigJSON.parse(data, file: file)
        let json = try root.optionalObject("image_processor") ?? root
        var tile = try ImageProcessor.parse(root, data: data)
        if !json.has("size") { tile.resize = .exact(height: 384, width: 384) }
        if case .shortestEdge(let n)? = tile.resize { tile.resize = .exact(height: n, width: n) }
        let centreCrop = try json.optionalBool("do_center_crop") ?? false
        if !json.has("crop_size") || !centreCrop { tile.crop = nil }
        return AnyResImageProcessor(tile: tile, gridPinpoints: try gridPinpoints(json) ?? defaultPinpoints)
    }

    /// `image_grid_pinpoints` of a processor file or a model's config.json: 1 to 1024 [height, width] pairs of 1
    /// to `ImageProcessor.maxSide` pixels; nil when absent.
    static func gridPinpoints(_ json: ConfigJSON) throws -> [[Int]]? {
        guard let v = json.value("image_grid_pinpoints") else { return nil }
        guard let list = v as? [[Any]],
            let parsed = Optional(
                list.compactMap { pair -> [Int]? in
                    let sides = pair.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
                    return sides.count == 2 && sides.allSatisfy({ (1...ImageProcessor.maxSide).contains($0) })
                        ? sides : nil
                }), parsed.count == list.count, !parsed.isEmpty, parsed.count <= 1024
        else {
            throw json.wrongType(
                "image_grid_pinpoints",
                expected: "a list of [height, width] pairs of 1 to \(ImageProcessor.maxSide) pixels", found: v)
        }
        return parsed
    }
}

extension AnyResImageProcessor {
    /// How many features (and so `<image>` placeholders) LLaVA-OneVision gives one image of `height` x
    /// `width` alone in a prompt, as its processor counts them (`_get_number_of_features`): the whole-image tile's
    /// `tokensPerTile`, plus the grid's features unpadded back to the image's aspect ratio, shrunk when they
    /// exceed `maxTiles` tiles' worth (`anyres_max_N`), plus one newline per row. Subtract one for
    /// `vision_feature_select_strategy` "default"; one of several images in a prompt has `tokensPerTile + 1`.
    public func featureCount(height: Int, width: Int, tokensPerTile: Int, maxTiles: Int) -> Int {
        let packing = AnyResPacking(
            imageHeight: height, imageWidth: width,
            grid: Self.selectBestResolution(height: height, width: width, candidates: gridPinpoints), tile: tileSize,
            side: Int(Double(tokensPerTile).squareRoot()), maxTiles: maxTiles)
        return tokensPerTile + packing.outputRows * (packing.outputColumns + 1)
    }
}
