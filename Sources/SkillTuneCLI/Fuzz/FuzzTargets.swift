import Foundation
import HFCausalLM
import HFTokenizers
import Host
import JSONLBenchmark
import Kernel
import LoRA
import TinyLLaVA
import Transformer

/// One parser `skilltune fuzz` exercises: how to feed it bytes, how to mutate its inputs, and seeds to start
/// from when no corpus directory is given.
///
/// `run` must not crash, hang or allocate without bound for any input; throwing is the expected way to
/// refuse one. What it throws (with digits removed) is the input's "outcome"; inputs with a new outcome are
/// kept for further mutation, a cheap stand-in for coverage feedback.
public struct FuzzTarget {
    public let name: String
    public let summary: String
    /// Words the mutator inserts.
    public let dictionary: [String]
    /// Seeds used when the corpus directory has none.
    public let builtInSeeds: () -> [[UInt8]]
    /// Parser-aware mutation; nil means byte mutations only.
    public let mutate: ((inout FuzzMutator, [UInt8], [UInt8]) -> [UInt8])?
    /// Feeds one input to the parser and to what uses its result.
    public let run: ([UInt8]) throws -> Void

    /// The parsers we own, in the order `skilltune fuzz all` runs them.
    public static var all: [FuzzTarget] {
        [
            safeTensors, configJSON, tokenizerJSON, peftConfig, jsonl, llavaJSON, messagesJSONL, image, commandLine,
            studyConfig, studyPlan, chatTemplate, imageProcessor,
        ]
    }

    /// The names of `all`, without building the targets (the command list mentions them).
    public static let names = [
        "safetensors", "config-json", "tokenizer-json", "peft-config", "jsonl", "llava-json",
        "messages-jsonl", "image", "cli", "study-config", "study-plan", "chat-template",
        "image-processor",
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    // MARK: safetensors

    static let safeTensors = FuzzTarget(
        name: "safetensors", summary: "safetensors headers and data (SafeTensorsFile, every tensor widened to Float32)",
        dictionary: [
            "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"", "\"BF16\"",
            "\"I64\"", "\"U8\"", "\"BOOL\"", "\"F64\"", "\"F8_E4M3\"", "[4294967296,4294967296,0]", "[0,0]",
        ],
        builtInSeeds: {
            let header =
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]},"__metadata__":{"k":"v"}}"#
            return [SafeTensorsFuzzing.assemble(Array(header.utf8), data: [UInt8](repeating: 0x3F, count: 12))]
        },
        mutate: { mutator, input, other in
            // Mutate the JSON header or the data, then (usually) rewrite the length prefix so the header still
            // parses as a header: otherwise nearly every input dies at the first check.
            guard let (header, data) = SafeTensorsFuzzing.split(input), mutator.chance(0.85) else {
                return mutator.mutateBytes(input, other: other)
            }
            let otherHeader = SafeTensorsFuzzing.split(other)?.header ?? other
            if mutator.chance(0.75) {
                let mutated = mutator.mutateJSON(header, other: otherHeader)
                var assembled = SafeTensorsFuzzing.assemble(mutated, data: data)
                if mutator.chance(0.1) { mutator.writeInteresting(&assembled, at: 0) }
                return assembled
            }
            return SafeTensorsFuzzing.assemble(header, data: mutator.mutateBytes(data, other: other))
        },
        run: { bytes in
            let file = try SafeTensorsFile(data: Data(bytes))
            precondition(
                file.float32ByteCount <= UInt64(bytes.count) * 4,
                "safetensors: Float32 size not bounded by the file size")
            for name in file.tensorNames.prefix(64) {
                guard let info = file.info(named: name) else { continue }
                if info.dtype.isReadableAsFloat32 {
                    _ = try file.tensor(named: name)
                } else {
                    _ = try file.withRawBytes(ofTensorNamed: name) { $0.reduce(0 as UInt8, &+) }
                }
            }
        })

    // MARK: config.json

    static let configJSON = FuzzTarget(
        name: "config-json",
        summary:
            "config.json of Hugging Face Qwen2/Llama (HFModelConfig), LLaVA/LLaVA-OneVision (HFLLaVAConfig), Qwen2-VL/Qwen2.5-VL (HFQwen2VLConfig) and tiny-llava (TinyLLaVAConfig) checkpoints",
        dictionary: [
            "\"model_type\"", "\"vocab_size\"", "\"hidden_size\"", "\"intermediate_size\"", "\"num_hidden_layers\"",
            "\"num_attention_heads\"", "\"num_key_value_heads\"", "\"head_dim\"", "\"rope_theta\"", "\"rope_scaling\"",
            "\"rope_parameters\"", "\"rope_type\"", "\"eos_token_id\"", "\"tie_word_embeddings\"", "\"layer_types\"",
            "\"vision_config\"", "\"text_config\"", "\"image_size\"", "\"patch_size\"", "\"max_position_embeddings\"",
            "\"vision_feature_layer\"", "\"vision_feature_select_strategy\"", "\"image_grid_pinpoints\"",
            "\"vision_aspect_ratio\"", "\"image_token_index\"", "\"llava_onevision\"", "\"siglip_vision_model\"",
            "\"clip_vision_model\"", "\"hidden_act\"", "\"projector_hidden_act\"", "anyres_max_9", "-2",
            "\"qwen2_vl\"", "\"qwen2_5_vl\"", "\"mrope_section\"", "\"mrope\"", "\"image_token_id\"", "\"depth\"",
            "\"embed_dim\"", "\"num_heads\"", "\"mlp_ratio\"", "\"out_hidden_size\"", "\"window_size\"",
            "\"fullatt_block_indexes\"", "\"spatial_merge_size\"", "\"temporal_patch_size\"",
        ],
        builtInSeeds: {
            [
                Array(
                    #"{"model_type":"llama","vocab_size":300,"hidden_size":16,"intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"eos_token_id":[1,2]}"#
                        .utf8),
                Array(
                    #"{"model_type":"llava_onevision","image_token_index":5,"vision_feature_layer":-1,"vision_feature_select_strategy":"full","vision_aspect_ratio":"anyres_max_4","image_grid_pinpoints":[[28,28],[28,56]],"text_config":{"model_type":"qwen2","vocab_size":300,"hidden_size":16,"intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2},"vision_config":{"model_type":"siglip_vision_model","hidden_size":8,"intermediate_size":16,"num_hidden_layers":2,"num_attention_heads":2,"image_size":28,"patch_size":7}}"#
                        .utf8),
            ]
        },
        mutate: { mutator, input, other in mutator.mutateJSON(input, other: other) },
        run: { bytes in
            let data = Data(bytes)
            var failures: [Error] = []
            do {
                let config = try HFQwen2VLConfig(data: data)
                try MemoryBudget.check(
                    float32Bytes: config.float32ParameterBytes, what: "the model of config.json", limit: 1 << 40)
            } catch { failures.append(error) }
            do {
                let config = try HFLLaVAConfig(data: data)
                try MemoryBudget.check(
                    float32Bytes: config.float32ParameterBytes, what: "the model of config.json", limit: 1 << 40)
            } catch { failures.append(error) }
            do {
                let config = try HFModelConfig(data: data)
                _ = try config.jsonData()
                try MemoryBudget.check(
                    float32Bytes: config.decoder.float32ParameterBytes, what: "the model of config.json",
                    limit: 1 << 40)
            } catch { failures.append(error) }
            do {
                let config = try JSONNesting.decode(TinyLLaVAConfig.self, from: data, file: "config.json")
                if config.problems().isEmpty {
                    try MemoryBudget.check(
                        float32Bytes: TinyLLaVA.float32Bytes(of: config), what: "the model of config.json",
                        limit: 1 << 40)
                }
            } catch { failures.append(error) }
            if failures.count == 4 { throw FuzzRejection(failures.map { "\($0)" }.joined(separator: " | ")) }
        })

    // MARK: tokenizer.json

    static let tokenizerJSON = FuzzTarget(
        name: "tokenizer-json",
        summary:
            "tokenizer.json: byte-level BPE (HFTokenizer) and word-level (tiny-llava WordTokenizer), then encoding and decoding a short text",
        dictionary: [
            "\"model\"", "\"vocab\"", "\"merges\"", "\"added_tokens\"", "\"pre_tokenizer\"", "\"pretokenizers\"",
            "\"normalizer\"", "\"decoder\"", "\"decoders\"", "\"type\"", "\"content\"", "\"id\"", "\"special\"",
            "\"normalized\"", "\"Regex\"", "\"String\"", "\"behavior\"", "\"Isolated\"", "\"MergedWithPrevious\"",
            "\"Removed\"", "\"individual_digits\"", "\"use_regex\"", "\"add_prefix_space\"", "\"ignore_merges\"",
            "\"single_word\"", "\"lstrip\"", "\"rstrip\"", "\"Ġ\"", "\"Ċ\"", "16777215", "16777216", "\"WordLevel\"",
            "\"<pad>\"", "\"<image>\"",
        ],
        builtInSeeds: { [Array(ByteLevelTokenizerFile.data())] },
        mutate: { mutator, input, other in mutator.mutateJSON(input, other: other) },
        run: { bytes in
            // Both readers of tokenizer.json: byte-level BPE (Hugging Face models) and word-level (tiny-llava).
            if let words = try? WordTokenizer.parse(Data(bytes)) {
                _ = words.decode(words.encode("the red <image> square 12") + [-1, Int32.max])
            }
            let tokenizer = try HFTokenizer(json: Data(bytes))
            let ids = tokenizer.encode("Hello wörld 1234 <|endoftext|> a\tb\n é👍")
            _ = tokenizer.decode(ids + [-1, Int32.max, 0])
            _ = tokenizer.tokenText(Int32(tokenizer.vocabularySize - 1))
        })

    // MARK: adapter_config.json

    static let peftConfig = FuzzTarget(
        name: "peft-config", summary: "PEFT LoRA adapter_config.json (PEFTAdapter.readConfig)",
        dictionary: [
            "\"r\"", "\"lora_alpha\"", "\"lora_dropout\"", "\"peft_type\"", "\"use_rslora\"", "\"rank_pattern\"",
            "\"alpha_pattern\"", "\"modules_to_save\"", "\"fan_in_fan_out\"", "\"use_dora\"", "\"bias\"",
            "\"lora_bias\"",
        ],
        builtInSeeds: { [Array(#"{"peft_type":"LORA","r":4,"lora_alpha":8,"lora_dropout":0.0,"bias":"none"}"#.utf8)] },
        mutate: { mutator, input, other in mutator.mutateJSON(input, other: other) },
        run: { bytes in
            let settings = try PEFTAdapter.readConfig(Data(bytes), directory: "<fuzz>")
            _ =
                LoRAConfiguration(
                    rank: settings.rank, alpha: settings.alpha, dropout: settings.dropout,
                    rankStabilized: settings.rankStabilized
                ).scaling
        })

    // MARK: preprocessor_config.json

    static let imageProcessor = FuzzTarget(
        name: "image-processor",
        summary:
            "preprocessor_config.json / processor_config.json (ImageProcessor, AnyResImageProcessor and Qwen2VLImageProcessor.parse), then a small image through each",
        dictionary: [
            "\"size\"", "\"shortest_edge\"", "\"height\"", "\"width\"", "\"crop_size\"", "\"do_resize\"",
            "\"do_center_crop\"", "\"do_rescale\"", "\"do_normalize\"", "\"rescale_factor\"", "\"image_mean\"",
            "\"image_std\"", "\"resample\"", "\"image_processor\"", "0.00392156862745098", "16384", "true", "false",
            "\"image_grid_pinpoints\"", "[8, 16]", "\"min_pixels\"", "\"max_pixels\"", "\"longest_edge\"",
            "\"patch_size\"", "\"merge_size\"", "\"temporal_patch_size\"", "\"do_convert_rgb\"", "268435456",
        ],
        builtInSeeds: {
            [
                Array(
                    #"{"size": {"shortest_edge": 12}, "crop_size": {"height": 10, "width": 10}, "resample": 3, "rescale_factor": 0.00392156862745098, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}"#
                        .utf8),
                Array(#"{"image_processor": {"size": 9, "do_center_crop": false, "resample": 2}}"#.utf8),
                Array(
                    #"{"min_pixels": 16, "max_pixels": 256, "patch_size": 2, "merge_size": 2, "temporal_patch_size": 2, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3}"#
                        .utf8),
                Array(
                    #"{"image_processor": {"size": {"shortest_edge": 16, "longest_edge": 64}, "patch_size": 4}}"#.utf8),
            ]
        },
        mutate: { mutator, input, other in mutator.mutateJSON(input, other: other) },
        run: { bytes in
            let image = Image(width: 7, height: 5, fill: (200, 100, 50))
            // As Qwen2-VL's settings (whose sizes are pixel counts the CLIP-style parser below may refuse): the
            // smart-resized sizes of a few extreme images and, when small, the patches of two images.
            var qwenFailure: Error?
            do {
                let qwen = try Qwen2VLImageProcessor.parse(Data(bytes), file: "<fuzz>")
                for (h, w) in [(1, 200), (16384, 82), (1, 1), (ImageProcessor.maxSide, ImageProcessor.maxSide)] {
                    _ = try? qwen.resizedSize(height: h, width: w)
                }
                let resized = try qwen.resizedSize(height: image.height, width: image.width)
                if resized.height * resized.width * qwen.temporalPatchSize <= 16384 {
                    _ = try qwen.pixelValues([image, image])
                }
            } catch { qwenFailure = error }

            let processor = try ImageProcessor.parse(Data(bytes), file: "<fuzz>")
            // A small image through it, when the sizes asked for are small (big ones are valid but slow).
            let size = processor.resizedSize(height: image.height, width: image.width)
            if size.height * size.width <= 4096, (processor.crop.map { $0.height * $0.width } ?? 0) <= 4096 {
                _ = processor.pixelValues(image)
            }
            // And as LLaVA-OneVision's anyres settings.
            let anyres = try AnyResImageProcessor.parse(Data(bytes), file: "<fuzz>")
            let tile = anyres.tileSize
            if tile.height * tile.width <= 4096, anyres.gridPinpoints.allSatisfy({ $0[0] * $0[1] <= 16384 }) {
                _ = anyres.pixelValues(image)
                _ = anyres.pixelValues(image, alone: false)
            }
            if let qwenFailure { throw qwenFailure }
        })

    // MARK: JSON Lines benchmarks

    static let jsonl = FuzzTarget(
        name: "jsonl", summary: "JSON Lines benchmark files (JSONLBenchmark), images resolved beside the file",
        dictionary: [
            "\"prompt\"", "\"answer\"", "\"image\"", "\"split\"", "\"options\"", "\"id\"", "<image>", "\n", "\r\n",
            "\"red.ppm\"", "\"blue.png\"", "\"/dev/zero\"", "\"/dev/urandom\"", "\"/proc/self/maps\"", "\".\"", "\"/\"",
        ],
        builtInSeeds: {
            [
                Array(
                    "{\"prompt\":\"2+2?\",\"answer\":4,\"split\":\"train\"}\n{\"prompt\":\"<image>\\nColor?\",\"answer\":\"red\",\"image\":\"red.ppm\"}\n"
                        .utf8)
            ]
        },
        mutate: { mutator, input, other in
            mutator.chance(0.8) ? mutator.mutateJSON(input, other: other) : mutator.mutateBytes(input, other: other)
        },
        run: { bytes in
            for scoring in [JSONLBenchmark.Scoring.normalized, .multipleChoice, .numeric] {
                guard
                    let benchmark = try? JSONLBenchmark(
                        contents: Data(bytes), file: FuzzFiles.jsonlFile, scoring: scoring,
                        imageLimits: ImageLimits(maxPixels: 1 << 16, maxSide: 1024))
                else { continue }
                for split in [Split.train, .eval] where benchmark.availableCount(split) > 0 {
                    for example in try benchmark.examples(split, count: 3, seed: 1) {
                        _ = benchmark.score(prediction: example.answer, example: example)
                        _ = benchmark.score(prediction: "B", example: example)
                    }
                }
                return
            }
            _ = try JSONLBenchmark(contents: Data(bytes), file: FuzzFiles.jsonlFile)
        })

    // MARK: Conversation data files

    static let llavaJSON = FuzzTarget(
        name: "llava-json",
        summary: "LLaVA conversation JSON data files (DataFileBenchmark), images resolved beside the file",
        dictionary: [
            "\"conversations\"", "\"from\"", "\"value\"", "\"human\"", "\"gpt\"", "\"system\"", "\"image\"",
            "\"id\"", "\"split\"", "\"answers\"", "\"messages\"", "\"prompt\"", "<image>", "\"red.ppm\"",
            "[\"red.ppm\",\"blue.png\"]", "\"/dev/zero\"", "\"data:image/png;base64,\"", ",", "]", "\\\"",
        ],
        builtInSeeds: { [Array(DataFileFuzzing.llavaSeed.utf8)] },
        mutate: { mutator, input, other in
            mutator.chance(0.8) ? mutator.mutateJSON(input, other: other) : mutator.mutateBytes(input, other: other)
        },
        run: { bytes in try DataFileFuzzing.run(bytes) })

    static let messagesJSONL = FuzzTarget(
        name: "messages-jsonl", summary: "chat-messages and ShareGPT JSON Lines data files (DataFileBenchmark)",
        dictionary: [
            "\"messages\"", "\"role\"", "\"content\"", "\"user\"", "\"assistant\"", "\"system\"",
            "\"type\"", "\"text\"", "\"image\"", "\"image_url\"", "{\"url\":\"red.ppm\"}", "\"images\"",
            "\"conversations\"", "\"from\"", "\"value\"", "<image>", "\"red.ppm\"", "\"http://x/y.png\"",
            "\"file:///dev/zero\"", "\n", "\r\n",
        ],
        builtInSeeds: { [Array(DataFileFuzzing.messagesSeed.utf8)] },
        mutate: { mutator, input, other in
            mutator.chance(0.8) ? mutator.mutateJSON(input, other: other) : mutator.mutateBytes(input, other: other)
        },
        run: { bytes in try DataFileFuzzing.run(bytes) })

    // MARK: Images

    static let image = FuzzTarget(
        name: "image", summary: "PNG (with inflate), PPM P6/P3 and JPEG images (ImageFile.decode)",
        dictionary: [
            "IHDR", "IDAT", "IEND", "PLTE", "tEXt", "P6", "P3", "255", "65535", "#", "\n",
            "JFIF\u{0}", "Exif\u{0}\u{0}", "Adobe",
        ],
        builtInSeeds: {
            [
                PNG.encode(Image(width: 3, height: 2, pixels: [UInt8](repeating: 200, count: 18))),
                PPM.encode(Image(width: 2, height: 2, pixels: [UInt8](repeating: 9, count: 12))),
            ]
        },
        mutate: { mutator, input, other in
            var out = mutator.mutateBytes(input, other: other)
            // Most mutations of a PNG would only ever test the CRC check: repair the CRCs most of the time.
            if out.starts(with: PNG.signature) && mutator.chance(0.85) { PNGFuzzing.repairChunkCRCs(&out) }
            return out
        },
        run: { bytes in
            let image = try ImageFile.decode(bytes, limits: ImageLimits(maxPixels: 1 << 20, maxSide: 1 << 12))
            precondition(
                image.pixels.count == image.width * image.height * 3, "decoded image has the wrong pixel count")
        })

    // MARK: Command line

    static let commandLine = FuzzTarget(
        name: "cli",
        summary:
            "skilltune command-line arguments (command lookup, option parsing, every typed accessor, study options)",
        dictionary: CommandLineFuzzing.dictionary,
        builtInSeeds: {
            [CommandLineFuzzing.encode(["compare", "--strategies", "lora", "--preset", "quick", "--seed", "1"])]
        },
        mutate: { mutator, input, other in CommandLineFuzzing.mutate(&mutator, input, other) },
        run: { bytes in try CommandLineFuzzing.run(CommandLineFuzzing.decode(bytes)) })
}

/// A refusal that is not itself an error type of the parser (several parsers tried, all refused).
struct FuzzRejection: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Files some targets need on disk (the images a JSON Lines file refers to), in a directory of this process that
/// `remove()` deletes when the fuzz command ends (and the next use makes again).
enum FuzzFiles {
    static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skilltune-fuzz-\(getpid())")
    /// Whether the directory has been made since the last `remove()` (so a fuzz input costs no file-system call).
    nonisolated(unsafe) private static var made = false

    /// The JSON Lines file name the targets parse against; its images exist beside it.
    static var jsonlFile: URL {
        if !made {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let red = Image(
                width: 2, height: 2,
                pixels: [UInt8](repeating: 0, count: 12).enumerated().map { $0.offset % 3 == 0 ? 255 : 0 })
            try? Data(PPM.encode(red)).write(to: directory.appendingPathComponent("red.ppm"))
            try? Data(PNG.encode(red)).write(to: directory.appendingPathComponent("blue.png"))
            made = true
        }
        return directory.appendingPathComponent("bench.jsonl")
    }

    static func remove() {
        try? FileManager.default.removeItem(at: directory)
        made = false
    }
}

enum DataFileFuzzing {
    static let llavaSeed =
        #"[{"id":"a","image":"red.ppm","conversations":[{"from":"system","value":"Be brief."},"#
        + #"{"from":"human","value":"<image>\nColor?"},{"from":"gpt","value":"red"},{"from":"human","value":"Sure?"},"#
        + #"{"from":"gpt","value":"yes"}]},{"id":"b","answers":["4","four"],"conversations":[{"from":"human","value":"2+2?"},"#
        + #"{"from":"gpt","value":"4"}]}]"#
    static let messagesSeed =
        #"{"messages":[{"role":"user","content":[{"type":"image","image":"blue.png"},{"type":"text","text":"Shape?"}]},"#
        + #"{"role":"assistant","content":"square"}],"split":"eval"}"# + "\n"
        + #"{"conversations":[{"from":"human","value":"<image> Hue?"},{"from":"gpt","value":"B"}],"images":["red.ppm"]}"#
        + "\n"

    /// Loads the bytes as a data file under every scoring (each checks answers differently), then draws and
    /// scores examples of each that loads.
    static func run(_ bytes: [UInt8]) throws {
        let limits = ImageLimits(maxPixels: 1 << 16, maxSide: 1024)
        for scoring in [DataFileBenchmark.Scoring.normalized, .multipleChoice, .numeric, .anls, .relaxed] {
            guard
                let benchmark = try? DataFileBenchmark(
                    contents: Data(bytes), file: FuzzFiles.jsonlFile, scoring: scoring,
                    maxItems: 4096, imageLimits: limits)
            else { continue }
            for split in [Split.train, .eval] where benchmark.availableCount(split) > 0 {
                for example in try benchmark.examples(split, count: 3, seed: 1) {
                    // Predictions are short (generated), references may be long: ANLS costs their product.
                    _ = benchmark.score(prediction: example.answer, example: example)
                    _ = benchmark.score(prediction: String(example.answer.prefix(64).reversed()), example: example)
                    _ = benchmark.score(prediction: "B 4.5%", example: example)
                }
            }
        }
        _ = try DataFileBenchmark(contents: Data(bytes), file: FuzzFiles.jsonlFile, maxItems: 4096, imageLimits: limits)
    }
}

enum SafeTensorsFuzzing {
    /// The JSON header and the data after it, when the length prefix is sane.
    static func split(_ bytes: [UInt8]) -> (header: [UInt8], data: [UInt8])? {
        guard bytes.count >= 8 else { return nil }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(bytes[k]) << UInt64(8 * k) }
        guard length <= UInt64(bytes.count - 8) else { return nil }
        let end = 8 + Int(length)
        return (Array(bytes[8..<end]), Array(bytes[end...]))
    }

    static func assemble(_ header: [UInt8], data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        let n = UInt64(header.count)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> UInt64(8 * k))) }
        return out + header + data
    }
}

enum PNGFuzzing {
    /// Rewrites the CRC of every whole chunk so that mutated chunk data reaches the decoder behind the check.
    static func repairChunkCRCs(_ bytes: inout [UInt8]) {
        var position = 8
        while position + 12 <= bytes.count {
            let length = Int(
                UInt32(bytes[position]) << 24 | UInt32(bytes[position + 1]) << 16
                    | UInt32(bytes[position + 2]) << 8 | UInt32(bytes[position + 3]))
            guard length <= bytes.count - position - 12 else { return }
            let crc = Checksum.crc32(bytes[(position + 4)..<(position + 8 + length)])
            let at = position + 8 + length
            bytes[at] = UInt8(crc >> 24)
            bytes[at + 1] = UInt8((crc >> 16) & 0xFF)
            bytes[at + 2] = UInt8((crc >> 8) & 0xFF)
            bytes[at + 3] = UInt8(crc & 0xFF)
            position += 12 + length
        }
    }
}
