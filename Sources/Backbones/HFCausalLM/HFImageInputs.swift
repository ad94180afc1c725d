import Foundation
import Kernel

/// The image side of a LLaVA-family or Qwen2-VL checkpoint's processor, as transformers' `AutoProcessor` would
/// build it from the directory: `pixel_values` and the number of image placeholders each image expands to.
///
/// - `llava` (LLaVA-1.5): `ImageProcessor` (shortest-edge resize, centre crop); placeholders
///   `(height / patch) * (width / patch) + num_additional_image_tokens`, less one for the "default" feature
///   strategy.
/// - `llava_onevision`: `AnyResImageProcessor` tiles; placeholders from `featureCount` for an image alone in its
///   prompt, `num_image_tokens + 1` for one of several, less one for "default".
/// - `qwen2_vl`, `qwen2_5_vl`: `Qwen2VLImageProcessor` (smart resize, flattened patches); `<|image_pad|>` tokens
///   `t * h * w / merge_size²` of each image's `image_grid_thw`.
///
/// Settings come from `preprocessor_config.json` (else `processor_config.json`'s `image_processor`) and the
/// processor's own fields in `processor_config.json`, falling back to `config.json`'s vision settings.
public struct HFImagePreprocessor: Sendable {
    public enum Kind: Sendable {
        case llava(ImageProcessor, patchSize: Int, additionalTokens: Int)
        case oneVision(AnyResImageProcessor, tokensPerTile: Int, maxTiles: Int)
        /// Qwen2-VL and Qwen2.5-VL: patches of every image of a prompt in one [rows, 1176] array.
        case qwen2VL(Qwen2VLImageProcessor)
    }
    public let kind: Kind
    /// "default" drops the vision tower's first feature (CLIP's class token), "full" keeps every one. LLaVA kinds
    /// only (false for Qwen2-VL).
    public let defaultFeatureStrategy: Bool

    public init(kind: Kind, defaultFeatureStrategy: Bool) {
        self.kind = kind
        self.defaultFeatureStrategy = defaultFeatureStrategy
    }

    /// What `processor(images=..., return_tensors="np")` gives for the images of one prompt.
    public struct Inputs: Sendable {
        /// [images, 3, H, W] for LLaVA; [images, tiles, 3, H, W] for OneVision (fewer tiles zero-padded);
        /// [rows of all images, 3 * temporal_patch_size * patch_size²] for Qwen2-VL.
        public var shape: [Int]
        public var pixelValues: [Float]
        /// Each image's (height, width) before processing.
        public var imageSizes: [[Int]]
        /// Image placeholders per image (`<image>`; Qwen2-VL's `<|image_pad|>`).
        public var imageTokens: [Int]
        /// Qwen2-VL's `image_grid_thw`: `[t, h, w]` per image, in patches (rows `t * h * w` of `pixelValues`);
        /// empty for the LLaVA kinds.
        public var imageGridTHW: [[Int]] = []
    }

    /// The processor's outputs for the images of one prompt. Throws only for Qwen2-VL, for an image its
    /// processor refuses (`Qwen2VLImageProcessor.SizeError`: empty, or an aspect ratio over 200).
    public func inputs(_ images: [Image]) throws -> Inputs {
        let sizes = images.map { [$0.height, $0.width] }
        let tokens = try imageTokens(images)
        switch kind {
        case .llava(let processor, _, _):
            let (shape, values) = processor.pixelValues(images)
            return Inputs(shape: shape, pixelValues: values, imageSizes: sizes, imageTokens: tokens)
        case .qwen2VL(let processor):
            let (shape, values, grids) = try processor.pixelValues(images)
            return Inputs(
                shape: shape, pixelValues: values, imageSizes: sizes, imageTokens: tokens, imageGridTHW: grids)
        case .oneVision(let processor, _, _):
            let alone = images.count == 1
            let perImage = images.map { processor.pixelValues($0, alone: alone) }
            let tiles = perImage.map { $0.shape[0] }.max() ?? 0
            let tileShape = perImage.first.map { Array($0.shape.dropFirst()) } ?? [3, 0, 0]
            let tileCount = tileShape.reduce(1, *)
            var values: [Float] = []
            for p in perImage {
                values += p.values
                values += [Float](repeating: 0, count: (tiles - p.shape[0]) * tileCount)
            }
            return Inputs(
                shape: [images.count, tiles] + tileShape, pixelValues: values, imageSizes: sizes, imageTokens: tokens)
        }
    }

    /// Placeholders each image of a prompt expands to, from the images' sizes alone (no pixel is processed):
    /// LLaVA's patches of the processed size; OneVision's `featureCount` for an image alone in its prompt, one
    /// tile and a newline for each of several; Qwen2-VL's `tokenCount` (merged patches). Throws as `inputs`.
    public func imageTokens(_ images: [Image]) throws -> [Int] {
        let dropped = defaultFeatureStrategy ? 1 : 0
        switch kind {
        case .llava(let processor, let patch, let additional):
            return images.map { image in
                let resized =
                    processor.resize == nil
                    ? (height: image.height, width: image.width)
                    : processor.resizedSize(height: image.height, width: image.width)
                let size = processor.crop ?? (max(resized.height, 1), max(resized.width, 1))
                return (size.height / patch) * (size.width / patch) + additional - dropped
            }
        case .oneVision(let processor, let perTile, let maxTiles):
            guard images.count == 1 else { return images.map { _ in perTile + 1 - dropped } }
            return images.map { image in
                processor.featureCount(
                    height: image.height, width: image.width, tokensPerTile: perTile, maxTiles: maxTiles) - dropped
            }
        case .qwen2VL(let processor):
            return try images.map { try processor.tokenCount(height: $0.height, width: $0.width) }
        }
    }

    /// Qwen2-VL's `image_grid_thw` of each image (t, h, w in patches), from the images' sizes alone; empty for the
    /// LLaVA kinds. Throws as `inputs`.
    public func imageGrids(_ images: [Image]) throws -> [[Int]] {
        guard case .qwen2VL(let processor) = kind else { return [] }
        return try images.map { try processor.gridTHW(height: $0.height, width: $0.width) }
    }

    /// The preprocessor of the checkpoint in `directory`; an error names what is missing or not supported.
    public static func load(_ directory: URL) throws -> HFImagePreprocessor {
        let config = try ConfigJSON.read(directory.appendingPathComponent("config.json"), purpose: "the model's config")
        let modelType = try config.optionalString("model_type") ?? "?"
        let qwen = modelType == "qwen2_vl" || modelType == "qwen2_5_vl"
        guard modelType == "llava" || modelType == "llava_onevision" || qwen else {
            throw config.invalid(
                "model_type",
                "is '\(modelType)'; image preprocessing needs a LLaVA ('llava'), LLaVA-OneVision "
                    + "('llava_onevision'), Qwen2-VL ('qwen2_vl') or Qwen2.5-VL ('qwen2_5_vl') checkpoint")
        }
        let preprocessorFile = directory.appendingPathComponent("preprocessor_config.json")
        let processorFile = directory.appendingPathComponent("processor_config.json")
        let processor =
            FileManager.default.fileExists(atPath: processorFile.path)
            ? try ConfigJSON.read(processorFile, purpose: "the processor's settings") : nil
        let imageSettings: URL
        if FileManager.default.fileExists(atPath: preprocessorFile.path) {
            imageSettings = preprocessorFile
        } else if processor?.has("image_processor") == true {
            imageSettings = processorFile
        } else {
            throw HFCheckpointError(
                file: preprocessorFile.path, key: nil,
                message: "file not found (the image processor's settings; processor_config.json has none either)")
        }
        let vision = try config.optionalObject("vision_config")
        if qwen {
            return HFImagePreprocessor(
                kind: .qwen2VL(try qwenProcessor(imageSettings, vision: vision, config: config)),
                defaultFeatureStrategy: false)
        }
        func processorInt(_ key: String) throws -> Int? { try processor?.optionalInt(key) }
        let strategy =
            try processor?.optionalString("vision_feature_select_strategy")
            ?? config.optionalString("vision_feature_select_strategy") ?? "default"
        guard strategy == "default" || strategy == "full" else {
            throw config.invalid("vision_feature_select_strategy", "is '\(strategy)'; expected 'default' or 'full'")
        }
        switch modelType {
        case "llava":
            let patch = try processorInt("patch_size") ?? vision?.optionalInt("patch_size") ?? 14
            guard patch > 0 else { throw config.invalid("vision_config.patch_size", "must be positive") }
            let additional = try processorInt("num_additional_image_tokens") ?? 1
            return HFImagePreprocessor(
                kind: .llava(try ImageProcessor.read(imageSettings), patchSize: patch, additionalTokens: additional),
                defaultFeatureStrategy: strategy == "default")
        default:  // llava_onevision, the only other type the guard above lets through
            let anyres = try AnyResImageProcessor.read(imageSettings)
            let tile = anyres.tileSize.height
            let visionPatch = try vision?.optionalInt("patch_size") ?? 14
            let perTile =
                try processorInt("num_image_tokens") ?? (tile / max(visionPatch, 1)) * (tile / max(visionPatch, 1))
            let aspect =
                try processor?.optionalString("vision_aspect_ratio") ?? config.optionalString("vision_aspect_ratio")
                ?? "anyres_max_9"
            guard aspect.hasPrefix("anyres_max_"), let maxTiles = Int(aspect.dropFirst("anyres_max_".count)),
                maxTiles > 0
            else {
                throw config.invalid("vision_aspect_ratio", "is '\(aspect)'; expected anyres_max_N")
            }
            return HFImagePreprocessor(
                kind: .oneVision(anyres, tokensPerTile: perTile, maxTiles: maxTiles),
                defaultFeatureStrategy: strategy == "default")
        }
    }

    /// The Qwen2-VL processor of `file`, checked against the vision tower's `patch_size`, `spatial_merge_size`
    /// and `temporal_patch_size` in config.json's `vision_config` (transformers' defaults 14, 2, 2 when absent).
    private static func qwenProcessor(_ file: URL, vision: ConfigJSON?, config: ConfigJSON) throws
        -> Qwen2VLImageProcessor
    {
        let processor = try Qwen2VLImageProcessor.read(file)
        // load reads processor_config.json only for its image_processor object.
        let settingsKey = file.lastPathComponent == "processor_config.json" ? "image_processor." : ""
        let pairs = [
            ("patch_size", "patch_size", processor.patchSize, 14),
            ("spatial_merge_size", "merge_size", processor.mergeSize, 2),
            ("temporal_patch_size", "temporal_patch_size", processor.temporalPatchSize, 2),
        ]
        for (towerKey, processorKey, value, fallback) in pairs {
            let tower = try vision?.optionalInt(towerKey) ?? fallback
            guard tower == value else {
                throw HFCheckpointError(
                    file: config.file, key: "vision_config.\(towerKey)",
                    message: "vision_config.\(towerKey) is \(tower) but \(file.path) has \(settingsKey)\(processorKey) "
                        + "\(value); the vision tower and its image processor must agree")
            }
        }
        return processor
    }
}
