import Foundation
import Kernel

/// The image side of a LLaVA-family checkpoint's processor, as transformers' `AutoProcessor` would build it
/// from the directory: `pixel_values` and the number of `<image>` placeholders each image expands to.
///
/// - `llava` (LLaVA-1.5): `ImageProcessor` (shortest-edge resize, centre crop); placeholders
///   `(height / patch) * (width / patch) + num_additional_image_tokens`, less one for the "default" feature
///   strategy.
/// - `llava_onevision`: `AnyResImageProcessor` tiles; placeholders from `featureCount` for an image alone in its
///   prompt, `num_image_tokens + 1` for one of several, less one for "default".
///
/// Settings come from `preprocessor_config.json` (else `processor_config.json`'s `image_processor`) and the
/// processor's own fields in `processor_config.json`, falling back to `config.json`'s vision settings.
public struct HFImagePreprocessor: Sendable {
    public enum Kind: Sendable {
        case llava(ImageProcessor, patchSize: Int, additionalTokens: Int)
        case oneVision(AnyResImageProcessor, tokensPerTile: Int, maxTiles: Int)
    }
    public let kind: Kind
    /// "default" drops the vision tower's first feature (CLIP's class token), "full" keeps every one.
    public let defaultFeatureStrategy: Bool

    /// What `processor(images=..., return_tensors="np")` gives for the images of one prompt.
    public struct Inputs: Sendable {
        /// [images, 3, H, W] for LLaVA; [images, tiles, 3, H, W] for OneVision (fewer tiles zero-padded).
        public var shape: [Int]
        public var pixelValues: [Float]
        /// Each image's (height, width) before processing.
        public var imageSizes: [[Int]]
        /// `<image>` placeholders per image.
        public var imageTokens: [Int]
    }

    public func inputs(_ images: [Image]) -> Inputs {
        let sizes = images.map { [$0.height, $0.width] }
        let tokens = imageTokens(images)
        switch kind {
        case .llava(let processor, _, _):
            let (shape, values) = processor.pixelValues(images)
            return Inputs(shape: shape, pixelValues: values, imageSizes: sizes, imageTokens: tokens)
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

    /// `<image>` placeholders each image of a prompt expands to, from the images' sizes alone (no pixel is
    /// processed): LLaVA's patches of the processed size; OneVision's `featureCount` for an image alone in its
    /// prompt, one tile and a newline for each of several.
    public func imageTokens(_ images: [Image]) -> [Int] {
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
        }
    }

    /// The preprocessor of the checkpoint in `directory`; an error names what is missing or not supported.
    public static func load(_ directory: URL) throws -> HFImagePreprocessor {
        let config = try ConfigJSON.read(directory.appendingPathComponent("config.json"), purpose: "the model's config")
        let modelType = try config.optionalString("model_type") ?? "?"
        guard modelType == "llava" || modelType == "llava_onevision" else {
            throw config.invalid(
                "model_type",
                "is '\(modelType)'; image preprocessing needs a LLaVA ('llava') or LLaVA-OneVision "
                    + "('llava_onevision') checkpoint")
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
}
