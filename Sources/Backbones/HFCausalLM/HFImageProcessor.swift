import Foundation
import Kernel

/// transformers' PIL image processor for CLIP-style vision towers (`CLIPImageProcessor`, `LlavaImageProcessor`),
/// configured as `preprocessor_config.json` (or transformers 5's `processor_config.json`, under
/// `image_processor`) says: resize (shortest edge, keeping the aspect ratio, or to a fixed size) with Pillow's
/// filter, centre crop, rescale, normalize. For a PNG the pixel values are transformers' to the bit: the resize
/// is Pillow's own fixed-point arithmetic (`Image.resized`), rescale is done in Double then rounded to Float as
/// NumPy does, normalize in Float.
public struct ImageProcessor: Sendable, Equatable {
    public enum Resize: Sendable, Equatable {
        /// The shorter side becomes `n`, the longer `Int(n * long / short)` (transformers'
        /// `get_resize_output_image_size` with `default_to_square=False`).
        case shortestEdge(Int)
        case exact(height: Int, width: Int)
    }

    public var resize: Resize?
    public var filter: ResampleFilter
    public var crop: (height: Int, width: Int)?
    public var rescaleFactor: Double?
    public var mean: [Float]?
    public var std: [Float]?

    /// OpenAI CLIP's statistics, transformers' defaults for CLIP and LLaVA.
    public static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    public init(
        resize: Resize?, filter: ResampleFilter = .bicubic, crop: (height: Int, width: Int)?,
        rescaleFactor: Double? = 1.0 / 255.0, mean: [Float]? = clipMean, std: [Float]? = clipStd
    ) {
        self.resize = resize
        self.filter = filter
        self.crop = crop
        self.rescaleFactor = rescaleFactor
        self.mean = mean
        self.std = std
    }

    public static func == (a: ImageProcessor, b: ImageProcessor) -> Bool {
        a.resize == b.resize && a.filter == b.filter && a.crop?.height == b.crop?.height
            && a.crop?.width == b.crop?.width && a.rescaleFactor == b.rescaleFactor && a.mean == b.mean
            && a.std == b.std
    }

    /// The size the resize step gives an image of `height` x `width`.
    public func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        switch resize {
        case nil: return (height, width)
        case .exact(let h, let w): return (h, w)
        case .shortestEdge(let n):
            let (short, long) = width <= height ? (width, height) : (height, width)
            let newLong = Int(Double(n) * Double(long) / Double(short))
            return width <= height ? (newLong, n) : (n, newLong)
        }
    }

    /// The 8-bit image after resize and crop (before rescale and normalize).
    public func geometry(_ image: Image) -> Image {
        var out = image
        if resize != nil {
            let size = resizedSize(height: image.height, width: image.width)
            out = out.resized(width: max(size.width, 1), height: max(size.height, 1), filter: filter)
        }
        if let crop { out = out.centerCropped(width: crop.width, height: crop.height) }
        return out
    }

    /// `pixel_values` of one image: channels first, shape [3, height, width].
    public func pixelValues(_ image: Image) -> (shape: [Int], values: [Float]) {
        let img = geometry(image)
        let plane = img.width * img.height
        var values = [Float](repeating: 0, count: 3 * plane)
        for c in 0..<3 {
            let m = mean.map { $0[c % $0.count] }
            let s = std.map { $0[c % $0.count] }
            for i in 0..<plane {
                let byte = img.pixels[i * 3 + c]
                var v = rescaleFactor.map { Float(Double(byte) * $0) } ?? Float(byte)
                if let m, let s { v = (v - m) / s }
                values[c * plane + i] = v
            }
        }
        return ([3, img.height, img.width], values)
    }

    /// `pixel_values` of several images of the same processed size, stacked: [images, 3, height, width].
    public func pixelValues(_ images: [Image]) -> (shape: [Int], values: [Float]) {
        var values: [Float] = []
        var shape = [3, 0, 0]
        for image in images {
            let one = pixelValues(image)
            shape = one.shape
            values += one.values
        }
        return ([images.count] + shape, values)
    }
}

extension ImageProcessor {
    /// The largest side a config may ask for (a 16k x 16k RGB image is 768 MB).
    public static let maxSide = 16384

    /// Reads `preprocessor_config.json`, or transformers 5's `processor_config.json` whose `image_processor`
    /// holds the same fields. Absent fields take transformers' CLIP defaults, as transformers does. Errors are
    /// `HFCheckpointError`s naming the file and the field.
    public static func read(_ url: URL) throws -> ImageProcessor {
        try parse(ConfigJSON.contents(of: url, purpose: "the image processor's settings"), file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws -> ImageProcessor {
        try parse(ConfigJSON.parse(data, file: file), data: data)
    }

    /// `root` is `data` parsed (callers that read more fields from it parse it once).
    static func parse(_ root: ConfigJSON, data: Data) throws -> ImageProcessor {
        try parse(root).withPreciseNumbers(from: data)
    }

    /// The fractional fields as `JSONDecoder` reads them: correctly rounded, where `JSONSerialization` can be
    /// an ulp off (it reads 0.00392156862745098, transformers' 1/255, as 0.0039215686274509795), which
    /// would change pixel values in the last bit. Types were checked by `parse` already.
    private func withPreciseNumbers(from data: Data) -> ImageProcessor {
        struct Fields: Decodable {
            let rescale_factor: Double?
            let image_mean: Numbers?
            let image_std: Numbers?
            let image_processor: Nested?
        }
        struct Nested: Decodable {
            let rescale_factor: Double?
            let image_mean: Numbers?
            let image_std: Numbers?
        }
        struct Numbers: Decodable {
            let values: [Double]
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let one = try? container.decode(Double.self) {
                    values = [one]
                } else {
                    values = try container.decode([Double].self)
                }
            }
        }
        var bytes = data
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(bytes)) else { return self }
        // The same object `parse` read: the nested one when there is one.
        let rescale = fields.image_processor.map(\.rescale_factor) ?? fields.rescale_factor
        let mean = fields.image_processor.map(\.image_mean) ?? fields.image_mean
        let std = fields.image_processor.map(\.image_std) ?? fields.image_std
        var out = self
        if out.rescaleFactor != nil, let rescale { out.rescaleFactor = rescale }
        if out.mean != nil, let mean { out.mean = mean.values.map { Float($0) } }
        if out.std != nil, let std { out.std = std.values.map { Float($0) } }
        return out
    }

    private static func parse(_ root: ConfigJSON) throws -> ImageProcessor {
        let json = try root.optionalObject("image_processor") ?? root
        func side(_ object: ConfigJSON, _ key: String) throws -> Int {
            guard let n = try object.optionalInt(key) else { throw object.missing(key) }
            guard (1...maxSide).contains(n) else {
                throw object.invalid(key, "must be from 1 to \(maxSide) pixels, got \(n)")
            }
            return n
        }
        /// `size`/`crop_size`: an object, or one number for a square (older configs).
        func size(_ key: String) throws -> ConfigJSON? {
            guard let v = json.value(key) else { return nil }
            if let n = v as? NSNumber, !ConfigJSON.isBoolean(v) {
                return ConfigJSON(file: json.file, path: json.keyPath(key), values: ["height": n, "width": n])
            }
            return try json.optionalObject(key)
        }
        func floats(_ key: String, _ fallback: [Float]) throws -> [Float] {
            guard let v = json.value(key) else { return fallback }
            let list = (v as? [Any]) ?? [v]
            let out = list.compactMap { item -> Float? in
                guard let n = item as? NSNumber, !ConfigJSON.isBoolean(item), n.doubleValue.isFinite else { return nil }
                return Float(n.doubleValue)
            }
            guard out.count == list.count, out.count == 1 || out.count == 3 else {
                throw json.wrongType(key, expected: "a number or a list of 3 numbers", found: v)
            }
            return out
        }

        var resize: Resize?
        if try json.optionalBool("do_resize") ?? true {
            if let s = try size("size") {
                if s.has("shortest_edge") {
                    resize = .shortestEdge(try side(s, "shortest_edge"))
                } else if s.has("height") || s.has("width") {
                    resize = .exact(height: try side(s, "height"), width: try side(s, "width"))
                } else {
                    throw json.invalid("size", "must have 'shortest_edge', or 'height' and 'width'")
                }
            } else {
                resize = .shortestEdge(224)
            }
        }
        var filter = ResampleFilter.bicubic
        if let code = try json.optionalInt("resample") {
            guard let f = ResampleFilter(pillowCode: code) else {
                throw json.invalid("resample", "is \(code); supported: 2 (bilinear) and 3 (bicubic)")
            }
            filter = f
        }
        var crop: (height: Int, width: Int)?
        if try json.optionalBool("do_center_crop") ?? true {
            if let c = try size("crop_size") {
                crop = (try side(c, "height"), try side(c, "width"))
            } else {
                crop = (224, 224)
            }
        }
        var rescale: Double?
        if try json.optionalBool("do_rescale") ?? true {
            rescale = try json.optionalDouble("rescale_factor") ?? 1.0 / 255.0
        }
        var mean: [Float]?
        var std: [Float]?
        if try json.optionalBool("do_normalize") ?? true {
            mean = try floats("image_mean", clipMean)
            std = try floats("image_std", clipStd)
            guard std!.allSatisfy({ $0 != 0 }) else { throw json.invalid("image_std", "must not be 0") }
        }
        return ImageProcessor(resize: resize, filter: filter, crop: crop, rescaleFactor: rescale, mean: mean, std: std)
    }
}
