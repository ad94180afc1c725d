import Foundation
import Kernel

/// Qwen2-VL's (and Qwen2.5-VL's) image processor as transformers' `Qwen2VLImageProcessorPil` runs it: each image
/// resized with Pillow's filter to `smartResize` of its size (sides multiples of `patchSize * mergeSize`, area
/// within `minPixels...maxPixels`), rescaled and normalized exactly as `ImageProcessor` does (Double then Float),
/// then cut into flattened patches.
///
/// `pixel_values` of an image of `H` x `W` (after the resize) has `(H / patchSize) * (W / patchSize)` rows of
/// `3 * temporalPatchSize * patchSize * patchSize` values (1176 for 14, 2, 2). Rows go merge block by merge block
/// (row-major over the `H / (patch * merge)` x `W / (patch * merge)` blocks), then row-major over the
/// `merge x merge` patches of a block; within a row the order is channel, temporal copy, patch row, patch column.
/// A still image is one temporal patch: its frame is repeated `temporalPatchSize` times inside every row. So
///
///     row    = ((by * (gw / m) + bx) * m + my) * m + mx,      gh = H / p, gw = W / p, m = mergeSize, p = patchSize
///     column = ((c * temporalPatchSize + t) * p + y) * p + x
///     value  = image[c][(by * m + my) * p + y][(bx * m + mx) * p + x]
///
/// and `image_grid_thw` is `[1, gh, gw]`. The language model sees `gh * gw / m²` tokens for the image.
public struct Qwen2VLImageProcessor: Sendable, Equatable {
    /// Fewest and most pixels `smartResize` aims for (`size.shortest_edge` / `size.longest_edge`, or the older
    /// top-level `min_pixels` / `max_pixels`, which win when both are given). Unused when `doResize` is false.
    public var minPixels: Int
    public var maxPixels: Int
    /// The vision tower's patch side (`patch_size`).
    public var patchSize: Int
    /// Frames per temporal patch (`temporal_patch_size`): an image is repeated this many times.
    public var temporalPatchSize: Int
    /// Side of the square of patches merged into one token (`merge_size`).
    public var mergeSize: Int
    public var doResize: Bool
    public var filter: ResampleFilter
    public var rescaleFactor: Double?
    public var mean: [Float]?
    public var std: [Float]?
    /// `do_convert_rgb`. Images here are always RGB already (decoding composites transparency over white and
    /// spreads gray over the three channels, as transformers' conversion does), so it changes nothing; with it
    /// false transformers itself only accepts RGB sources.
    public var doConvertRGB: Bool

    /// transformers' defaults: `size = {"shortest_edge": 56 * 56, "longest_edge": 28 * 28 * 1280}`.
    public static let defaultMinPixels = 56 * 56
    public static let defaultMaxPixels = 28 * 28 * 1280

    public init(
        minPixels: Int = defaultMinPixels, maxPixels: Int = defaultMaxPixels, patchSize: Int = 14,
        temporalPatchSize: Int = 2, mergeSize: Int = 2, doResize: Bool = true, filter: ResampleFilter = .bicubic,
        rescaleFactor: Double? = 1.0 / 255.0, mean: [Float]? = ImageProcessor.clipMean,
        std: [Float]? = ImageProcessor.clipStd, doConvertRGB: Bool = true
    ) {
        self.minPixels = minPixels
        self.maxPixels = maxPixels
        self.patchSize = patchSize
        self.temporalPatchSize = temporalPatchSize
        self.mergeSize = mergeSize
        self.doResize = doResize
        self.filter = filter
        self.rescaleFactor = rescaleFactor
        self.mean = mean
        self.std = std
        self.doConvertRGB = doConvertRGB
    }

    /// Sides of the resized image are multiples of this: `patchSize * mergeSize` (28).
    public var factor: Int { patchSize * mergeSize }

    /// Values in one row of `pixel_values`: `3 * temporalPatchSize * patchSize²` (1176).
    public var patchDimension: Int { 3 * temporalPatchSize * patchSize * patchSize }

    /// An image the processor cannot take: transformers raises for the same images.
    public struct SizeError: Error, Equatable, CustomStringConvertible, LocalizedError {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
        public var errorDescription: String? { message }
    }

    /// transformers' `smart_resize`: the size an image of `height` x `width` is resized to.
    ///
    /// Each side is rounded to the nearest multiple of `factor` (ties to even, as Python's `round`). When that
    /// has more than `maxPixels` pixels, `beta = sqrt(height * width / maxPixels)` and each side becomes
    /// `max(factor, floor(side / beta / factor) * factor)`; when it has fewer than `minPixels`,
    /// `beta = sqrt(minPixels / (height * width))` and each side becomes `ceil(side * beta / factor) * factor`.
    /// The result can still fall outside the range (the `max(factor, ...)` of a very long image, the rounding
    /// up of a tiny one), as in transformers. Throws, as transformers does, for an image whose long side is more
    /// than 200 times its short side, and for an empty one. `factor` and `maxPixels` must be positive and
    /// `minPixels` not negative (settings read by `parse` are).
    public static func smartResize(
        height: Int, width: Int, factor: Int = 28, minPixels: Int = defaultMinPixels,
        maxPixels: Int = defaultMaxPixels
    ) throws -> (height: Int, width: Int) {
        precondition(
            factor > 0 && minPixels >= 0 && maxPixels > 0,
            "smartResize: factor \(factor), minPixels \(minPixels), maxPixels \(maxPixels)")
        guard height > 0, width > 0 else {
            throw SizeError("an image of \(height)x\(width) (height x width) has no pixels")
        }
        let ratio = Double(max(height, width)) / Double(min(height, width))
        guard ratio <= 200 else {
            throw SizeError(
                "an image of \(height)x\(width) (height x width) has an aspect ratio of \(ratio); Qwen2-VL's image "
                    + "processor takes at most 200 (transformers' smart_resize)")
        }
        let f = Double(factor)
        var h = Int((Double(height) / f).rounded(.toNearestOrEven)) * factor
        var w = Int((Double(width) / f).rounded(.toNearestOrEven)) * factor
        if h * w > maxPixels {
            let beta = (Double(height * width) / Double(maxPixels)).squareRoot()
            h = max(factor, Int((Double(height) / beta / f).rounded(.down)) * factor)
            w = max(factor, Int((Double(width) / beta / f).rounded(.down)) * factor)
        } else if h * w < minPixels {
            let beta = (Double(minPixels) / Double(height * width)).squareRoot()
            h = Int((Double(height) * beta / f).rounded(.up)) * factor
            w = Int((Double(width) * beta / f).rounded(.up)) * factor
        }
        return (h, w)
    }

    /// The size the processor gives an image of `height` x `width`: `smartResize` with these settings, or the
    /// image's own size when `doResize` is false (whose sides must then be multiples of `factor`).
    public func resizedSize(height: Int, width: Int) throws -> (height: Int, width: Int) {
        if doResize {
            return try Self.smartResize(
                height: height, width: width, factor: factor, minPixels: minPixels, maxPixels: maxPixels)
        }
        guard height > 0, width > 0 else {
            throw SizeError("an image of \(height)x\(width) (height x width) has no pixels")
        }
        guard height % factor == 0, width % factor == 0 else {
            throw SizeError(
                "do_resize is false, so an image's sides must be multiples of patch_size x merge_size = \(factor); "
                    + "got \(height)x\(width) (height x width)")
        }
        return (height, width)
    }

    /// `image_grid_thw` of an image of `height` x `width`: `[1, H / patchSize, W / patchSize]` of its resized size.
    public func gridTHW(height: Int, width: Int) throws -> [Int] {
        let size = try resizedSize(height: height, width: width)
        return [1, size.height / patchSize, size.width / patchSize]
    }

    /// Tokens the language model sees for an image of `height` x `width`: `t * h * w / mergeSize²` of its grid
    /// (Qwen2VLProcessor's count of `<|image_pad|>`).
    public func tokenCount(height: Int, width: Int) throws -> Int {
        try gridTHW(height: height, width: width).reduce(1, *) / (mergeSize * mergeSize)
    }

    /// `pixel_values` rows of one image ([rows, `patchDimension`], flattened) and its `image_grid_thw`.
    public func pixelValues(_ image: Image) throws -> (values: [Float], gridTHW: [Int]) {
        let size = try resizedSize(height: image.height, width: image.width)
        let resized = doResize ? image.resized(width: size.width, height: size.height, filter: filter) : image
        // Rescale and normalize exactly as the CLIP-style processor does: [3, H, W], channels first.
        let planes = ImageProcessor(
            resize: nil, filter: filter, crop: nil, rescaleFactor: rescaleFactor, mean: mean, std: std
        ).pixelValues(resized).values
        let (height, width, p, m, temporal) = (size.height, size.width, patchSize, mergeSize, temporalPatchSize)
        let (gh, gw) = (height / p, width / p)
        let plane = height * width
        var values = [Float](repeating: 0, count: gh * gw * patchDimension)
        var out = 0
        for by in 0..<(gh / m) {
            for bx in 0..<(gw / m) {
                for my in 0..<m {
                    for mx in 0..<m {
                        let top = (by * m + my) * p
                        let left = (bx * m + mx) * p
                        for c in 0..<3 {
                            for _ in 0..<temporal {
                                for y in 0..<p {
                                    let source = c * plane + (top + y) * width + left
                                    for x in 0..<p {
                                        values[out] = planes[source + x]
                                        out += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (values, [1, gh, gw])
    }

    /// `pixel_values` of the images of one prompt, concatenated: shape [total rows, `patchDimension`], and each
    /// image's `image_grid_thw`.
    public func pixelValues(_ images: [Image]) throws -> (shape: [Int], values: [Float], gridTHW: [[Int]]) {
        var values: [Float] = []
        var grids: [[Int]] = []
        for image in images {
            let one = try pixelValues(image)
            values += one.values
            grids.append(one.gridTHW)
        }
        return ([values.count / patchDimension, patchDimension], values, grids)
    }
}

extension Qwen2VLImageProcessor {
    /// The most pixels `min_pixels` / `max_pixels` may ask for (16384²).
    public static let maxPixelLimit = ImageProcessor.maxSide * ImageProcessor.maxSide

    /// Reads `preprocessor_config.json`, or transformers 5's `processor_config.json` whose `image_processor`
    /// holds the same fields. Errors are `HFCheckpointError`s naming the file and the field.
    public static func read(_ url: URL) throws -> Qwen2VLImageProcessor {
        try parse(ConfigJSON.contents(of: url, purpose: "the image processor's settings"), file: url.path)
    }

    /// The settings of a Qwen2-VL processor file. Absent fields take transformers' defaults. The resize bounds
    /// are `size: {"shortest_edge": min, "longest_edge": max}` with top-level `min_pixels` / `max_pixels`
    /// replacing either (as `Qwen2VLImageProcessorPil.__init__` does), or transformers' defaults when there is
    /// no `size`; with `do_resize` both must be there, from 1 to `maxPixelLimit`. `resample`, `do_rescale`,
    /// `rescale_factor`, `do_normalize`, `image_mean` and `image_std` are read as `ImageProcessor` reads them.
    public static func parse(_ data: Data, file: String) throws -> Qwen2VLImageProcessor {
        let root = try ConfigJSON.parse(data, file: file)
        let nested = try root.optionalObject("image_processor")
        let json = nested ?? root

        let doResize = try json.optionalBool("do_resize") ?? true
        var minPixels: Int?
        var maxPixels: Int?
        if let size = try json.optionalObject("size") {
            minPixels = try size.optionalInt("shortest_edge")
            maxPixels = try size.optionalInt("longest_edge")
        } else {
            (minPixels, maxPixels) = (defaultMinPixels, defaultMaxPixels)
        }
        minPixels = try json.optionalInt("min_pixels") ?? minPixels
        maxPixels = try json.optionalInt("max_pixels") ?? maxPixels
        if doResize {
            func check(_ value: Int?, _ sizeKey: String, _ topKey: String) throws {
                guard let value else {
                    throw json.invalid(
                        "size", "must have '\(sizeKey)' (or give '\(topKey)' at the top level) when do_resize is true")
                }
                guard (1...maxPixelLimit).contains(value) else {
                    let key = json.has(topKey) ? topKey : "size.\(sizeKey)"
                    throw json.invalid(key, "must be from 1 to \(maxPixelLimit) pixels, got \(value)")
                }
            }
            try check(minPixels, "shortest_edge", "min_pixels")
            try check(maxPixels, "longest_edge", "max_pixels")
        }

        func positive(_ key: String, default value: Int, upTo limit: Int) throws -> Int {
            let n = try json.optionalInt(key) ?? value
            guard (1...limit).contains(n) else { throw json.invalid(key, "must be from 1 to \(limit), got \(n)") }
            return n
        }
        let patch = try positive("patch_size", default: 14, upTo: 1024)
        let merge = try positive("merge_size", default: 2, upTo: 64)
        let temporal = try positive("temporal_patch_size", default: 2, upTo: 64)
        guard patch * merge <= ImageProcessor.maxSide else {
            throw json.invalid(
                "merge_size", "times patch_size must be at most \(ImageProcessor.maxSide), got \(patch * merge)")
        }
        let convert = try json.optionalBool("do_convert_rgb") ?? true

        // Rescale, normalize and the filter as the CLIP-style processor reads them (with its correctly rounded
        // numbers), from the same object without the fields that mean something else here.
        var settings = json.values
        for key in ["size", "crop_size", "min_pixels", "max_pixels"] { settings[key] = nil }
        settings["do_resize"] = false
        settings["do_center_crop"] = false
        let stripped =
            nested == nil
            ? ConfigJSON(file: root.file, path: "", values: settings)
            : ConfigJSON(file: root.file, path: "", values: ["image_processor": settings])
        let pixels = try ImageProcessor.parse(stripped, data: data)

        return Qwen2VLImageProcessor(
            minPixels: minPixels ?? defaultMinPixels, maxPixels: maxPixels ?? defaultMaxPixels, patchSize: patch,
            temporalPatchSize: temporal, mergeSize: merge, doResize: doResize, filter: pixels.filter,
            rescaleFactor: pixels.rescaleFactor, mean: pixels.mean, std: pixels.std, doConvertRGB: convert)
    }
}
