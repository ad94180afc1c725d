import Foundation
import HFCausalLM
import Host
import Kernel
import LoRA

/// `skilltune tokenize`, `logits` and `generate`: the stable command-line contract for using a model.
/// Each command writes its result through `output` (standard output by default), so tests can run them.
public enum ModelCommands {
    public typealias Output = (String) -> Void

    static let modelOption = OptionSpec.value(
        "model", "DIR",
        "Model: a checkpoint directory (Hugging Face Qwen2, Llama, LLaVA, LLaVA-OneVision, Qwen2-VL or Qwen2.5-VL, or one SkillTune saved), or a backbone name with an optional preset such as tiny-llava or tiny-llava:small (fresh random weights)."
    )

    /// The three commands.
    public static func all(registries: SkillTuneRegistries, output: @escaping Output = { print($0) }) -> [Command] {
        [
            tokenize(registries: registries, output: output), logits(registries: registries, output: output),
            generate(registries: registries, output: output), preprocess(output: output),
        ]
    }

    // MARK: preprocess

    public static func preprocess(output: @escaping Output = { print($0) }) -> Command {
        Command(
            name: "preprocess", summary: "Print a LLaVA-family or Qwen2-VL checkpoint's pixel values for images.",
            usage: "--model DIR --image FILE [--image FILE ...] --json",
            discussion: """
                Processes the images of one prompt as the checkpoint's transformers processor does (LLaVA-1.5:
                shortest-edge resize and centre crop; LLaVA-OneVision: anyres tiles for an image alone, padded
                squares for several; Qwen2-VL and Qwen2.5-VL: smart resize to multiples of 28 pixels, flattened
                patches), with Pillow's resize arithmetic, and prints
                {"pixel_values_shape":[...],"pixel_values":[flat],"image_sizes":[[h,w],...],"image_tokens":N,
                "image_tokens_per_image":[...]}: N is the number of image placeholders (<image>, Qwen2-VL's
                <|image_pad|>) the prompt expands to. Qwen2-VL adds "image_grid_thw":[[t,h,w],...].
                PNG, PPM and JPEG images; transparency is composited over white, as transformers does.
                """,
            options: [
                .value(
                    "model", "DIR",
                    "A Hugging Face LLaVA, LLaVA-OneVision, Qwen2-VL or Qwen2.5-VL checkpoint directory."),
                .value("image", "FILE", "An image of the prompt (repeat for several).", repeatable: true),
                .flag("json", "Print JSON (the only output format)."),
            ]
        ) { arguments in
            let directory = URL(fileURLWithPath: try arguments.required("model"))
            let files = arguments.strings("image")
            guard !files.isEmpty else {
                throw UsageError("missing required option '--image' (an image file)", command: arguments.command)
            }
            let preprocessor = try HFImagePreprocessor.load(directory)
            let images = try files.map { try ImageFile.read(URL(fileURLWithPath: $0)) }
            let inputs = try preprocessor.inputs(images)
            let values = inputs.pixelValues.withUnsafeBufferPointer {
                JSONText.numbers($0.baseAddress!, count: $0.count)
            }
            var json =
                "{\"pixel_values_shape\":" + JSONText.integers(inputs.shape) + ",\"pixel_values\":" + values
                + ",\"image_sizes\":[" + inputs.imageSizes.map { JSONText.integers($0) }.joined(separator: ",")
                + "],\"image_tokens\":" + String(inputs.imageTokens.reduce(0, +))
                + ",\"image_tokens_per_image\":" + JSONText.integers(inputs.imageTokens)
            if !inputs.imageGridTHW.isEmpty {  // Qwen2-VL
                json +=
                    ",\"image_grid_thw\":[" + inputs.imageGridTHW.map { JSONText.integers($0) }.joined(separator: ",")
                    + "]"
            }
            output(json + "}")
        }
    }

    // MARK: tokenize

    public static func tokenize(registries: SkillTuneRegistries, output: @escaping Output = { print($0) }) -> Command {
        Command(
            name: "tokenize", summary: "Print the token ids of a text.", usage: "--model DIR --text STR",
            discussion: """
                The text is encoded as given: no special tokens and no chat template are added.
                Prints {"ids":[...]}.
                """,
            options: [modelOption, .value("text", "STR", "The text to encode.")]
        ) { arguments in
            let text = try arguments.required("text")
            let backbone = try registries.backbone(reference: try arguments.required("model"))
            output("{\"ids\":" + JSONText.integers(backbone.tokenizer.encode(text)) + "}")
        }
    }

    // MARK: logits

    public static func logits(registries: SkillTuneRegistries, output: @escaping Output = { print($0) }) -> Command {
        Command(
            name: "logits", summary: "Print the logits at every position of a token sequence or a prompt.",
            usage:
                "--model DIR (--token-ids 1,2,3 | --prompt STR [--chat]) [--image FILE ...] [--adapter ADIR] [--json]",
            discussion: """
                Runs one forward pass and prints {"ids":[...],"shape":[T,V],"logits":[[...],...]}: the T ids the
                model ran on, V logits at each, as float32 in the shortest form that reads back exactly.
                --token-ids are taken as given; --prompt is encoded as given (no special tokens added), or with
                --chat as one user message rendered with the model's chat template and the generation prompt.
                --image (repeatable; LLaVA-family models) adds the images of the prompt: with --chat the message's
                content is the images then the text; without it, an <image> line per image goes before the text
                unless the prompt already has its <image> placeholders. Each placeholder is expanded to its
                image's feature positions, so "ids" are those transformers' processor gives.
                With --adapter, a PEFT LoRA adapter directory (adapter_config.json and adapter_model.safetensors,
                e.g. saved by PEFT's save_pretrained) is applied to the model first.
                """,
            options: [
                modelOption, .value("token-ids", "LIST", "Comma-separated token ids, e.g. 1,2,3."),
                .value("prompt", "STR", "A prompt to encode (instead of --token-ids)."),
                .flag("chat", "Render --prompt with the model's chat template."),
                .value(
                    "image", "FILE", "An image of the prompt (repeat for several; PNG, PPM or JPEG).", repeatable: true),
                .value("adapter", "ADIR", "A PEFT LoRA adapter directory to apply before the forward pass."),
                .flag("json", "Print JSON (the only output format)."),
            ]
        ) { arguments in
            let backbone = try registries.backbone(reference: try arguments.required("model"))
            let (ids, images) = try promptInput(arguments, backbone: backbone, idsOption: true)
            if let adapter = arguments.string("adapter") {
                try PEFTAdapter.load(
                    from: URL(fileURLWithPath: adapter, isDirectory: true), into: backbone,
                    renaming: backbone.modulePath(fromAdapter:))
            }
            backbone.setTraining(false)  // evaluation mode: no adapter dropout
            let t = ids.count
            let v = backbone.vocabularySize
            let logits = Autograd.withNoGrad {
                backbone.forward(
                    Batch(
                        tokens: ids, targets: ids, lengths: [t], imageLists: [images], batchSize: 1,
                        sequenceLength: t)
                ).logits
            }
            precondition(
                logits.shape == [1, t, v], "logits: the model returned \(logits.shape), expected [1, \(t), \(v)]")
            var text = "{\"ids\":" + JSONText.integers(ids) + ",\"shape\":[\(t),\(v)],\"logits\":["
            for position in 0..<t {
                if position > 0 { text += "," }
                text += JSONText.numbers(logits.data + position * v, count: v)
            }
            output(text + "]}")
        }
    }

    /// The ids a command runs on and the images that go with them: `--token-ids` (when `idsOption`) or
    /// `--prompt` (with `--chat`, through the chat template), with every `--image` placeholder expanded.
    static func promptInput(_ arguments: ParsedArguments, backbone: any Backbone, idsOption: Bool) throws -> (
        [Int32], [Image]
    ) {
        let command = arguments.command
        let files = arguments.strings("image")
        let images = try files.map { try ImageFile.read(URL(fileURLWithPath: $0)) }
        let imaging = backbone as? any ImagePrompting
        if !images.isEmpty && imaging == nil {
            throw UsageError(
                "--image: this model (\(backbone.family)) does not read images; LLaVA-family checkpoints do",
                command: command)
        }
        var ids: [Int32]
        if idsOption, let list = arguments.string("token-ids") {
            guard arguments.string("prompt") == nil else {
                throw UsageError("give --token-ids or --prompt, not both", command: command)
            }
            ids = try parseTokenIDs(list, command: command)
        } else {
            guard let prompt = arguments.string("prompt") else {
                throw UsageError(
                    idsOption
                        ? "missing required option '--token-ids' or '--prompt'" : "missing required option '--prompt'",
                    command: command)
            }
            if arguments.flag("chat") {
                guard let chat = backbone as? ChatTemplating, chat.supportsChatTemplate else {
                    throw UsageError(
                        "--chat: this model has no chat template (no chat_template in tokenizer_config.json, "
                            + "chat_template.jinja or chat_template.json) and its tokenizer has no "
                            + "<|im_start|>/<|im_end|> tokens for the ChatML default", command: command)
                }
                chat.useChatTemplate = true
                if let imaging {
                    _ = try chat.renderChat(
                        [
                            ChatMessage(
                                role: "user", content: String(repeating: "<image>", count: images.count) + prompt)
                        ],
                        addGenerationPrompt: true)
                    ids = imaging.encodePrompt(prompt, imageCount: images.count)
                } else {
                    _ = try chat.renderChat([ChatMessage(role: "user", content: prompt)], addGenerationPrompt: true)
                    ids = backbone.encodePrompt(prompt, hasImage: false)
                }
            } else if let imaging, !images.isEmpty {
                ids = imaging.encodePrompt(prompt, imageCount: images.count)
            } else {
                ids = backbone.tokenizer.encode(prompt)
            }
        }
        guard !ids.isEmpty else {
            throw UsageError("the prompt encodes to no tokens; give a non-empty --prompt", command: command)
        }
        try checkRange(ids, vocabularySize: backbone.vocabularySize, command: command)
        if let imaging {
            do {
                ids = try imaging.expandImagePlaceholders(ids, images: images)
            } catch let error as ImagePlaceholderError {
                throw UsageError("\(error)", command: command)
            }
        }
        return (ids, images)
    }

    /// "1, 2,3" -> [1, 2, 3]; anything else is a usage error that quotes the bad item.
    public static func parseTokenIDs(_ list: String, command: String) throws -> [Int32] {
        let items = list.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !(items.count == 1 && items[0].isEmpty) else {
            throw UsageError(
                "option '--token-ids' is empty; expected ids separated by commas, e.g. 1,2,3",
                command: command)
        }
        return try items.map { item in
            guard let id = Int32(item), id >= 0 else {
                throw UsageError(
                    "option '--token-ids': '\(item)' is not a token id (expected whole numbers >= 0 "
                        + "separated by commas, e.g. 1,2,3)", command: command)
            }
            return id
        }
    }

    static func checkRange(_ ids: [Int32], vocabularySize: Int, command: String) throws {
        if let (i, id) = ids.enumerated().first(where: { Int($0.element) >= vocabularySize }) {
            throw UsageError(
                "token id \(id) (item \(i + 1) of --token-ids) is out of range: the model has "
                    + "\(vocabularySize) ids (0...\(vocabularySize - 1))", command: command)
        }
    }

    // MARK: generate

    public static func generate(registries: SkillTuneRegistries, output: @escaping Output = { print($0) }) -> Command {
        Command(
            name: "generate", summary: "Continue a prompt greedily.",
            usage: "--model DIR --prompt STR [--image FILE ...] [--max-new-tokens N] [--chat] [--json]",
            discussion: """
                Greedy decoding with a KV cache, stopping after an end-of-sequence token or N new tokens.
                The prompt is encoded as given (no special tokens added); --chat renders it as a user message with
                the model's chat template and the generation prompt (the checkpoint's chat_template, or ChatML
                <|im_start|>user ... <|im_start|>assistant for Qwen tokenizers without one), and generation also
                stops at the template's end-of-turn token. --image (repeatable; LLaVA-family models) adds the
                prompt's images as `logits` does. Prints the new text (special tokens kept),
                or with --json {"ids":[new token ids],"text":"..."}.
                """,
            options: [
                modelOption, .value("prompt", "STR", "The text to continue."),
                .value(
                    "image", "FILE", "An image of the prompt (repeat for several; PNG, PPM or JPEG).", repeatable: true),
                .value("max-new-tokens", "N", "Most tokens to generate.", default: "32"),
                .flag("chat", "Render the prompt with the model's chat template."),
                .flag("json", "Print {\"ids\":[...],\"text\":\"...\"} instead of the text."),
            ]
        ) { arguments in
            let maxNewTokens = try arguments.int("max-new-tokens", in: 0...1_000_000)!
            let backbone = try registries.backbone(reference: try arguments.required("model"))
            let (ids, images) = try promptInput(arguments, backbone: backbone, idsOption: false)
            backbone.setTraining(false)
            let newIDs = backbone.generate(
                [GenerationRequest(tokens: ids, images: images)], maxNewTokens: maxNewTokens)[0]
            let text = backbone.tokenizer.decode(newIDs)
            if arguments.flag("json") {
                output("{\"ids\":" + JSONText.integers(newIDs) + ",\"text\":" + JSONText.string(text) + "}")
            } else {
                output(text)
            }
        }
    }
}
