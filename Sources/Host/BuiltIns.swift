import ComponentTuning
import Foundation
import HFCausalLM
import Kernel
import LoRA
import LwF
import MoE
import SkillSuite
import TinyLLaVA
import WiSEFT

extension SkillTuneRegistries {
    /// Registries holding everything the package ships: the tiny-llava backbone (and the HF families),
    /// the skill suite's benchmarks, and every strategy of the study.
    public static func builtIn() -> SkillTuneRegistries {
        let r = SkillTuneRegistries()
        do {
            try registerBuiltInBackbones(r)
            for b in SkillSuite.all() {
                try r.benchmarks.register(name: b.name, summary: "[\(b.role.rawValue)] \(b.summary)") { b }
            }
            try registerBuiltInStrategies(r)
        } catch {
            preconditionFailure("built-in registration failed: \(error)")
        }
        return r
    }

    static func registerBuiltInBackbones(_ r: SkillTuneRegistries) throws {
        try r.backbones.register(
            name: "tiny-llava",
            summary:
                "built-in LLaVA-style model: ViT -> mlp2x_gelu projector -> Qwen2-style decoder (presets \(TinyLLaVAConfig.presetNames.joined(separator: ", ")))",
            factory: BackboneFactory(
                presets: TinyLLaVAConfig.presetNames,
                create: { preset, seed, vocabulary in
                    try TinyLLaVA(
                        preset: preset, vocabulary: vocabulary.isEmpty ? SkillSuite.vocabulary : vocabulary, seed: seed)
                },
                load: { try TinyLLaVA.load(from: $0) },
                recognizes: { TinyLLaVA.recognizes($0) }))
        try r.backbones.register(
            name: "qwen2",
            summary: "Hugging Face Qwen2 checkpoints (config.json, safetensors, tokenizer.json); text only",
            factory: HFCausalLM.factory)
        try r.backbones.register(
            name: "llama",
            summary: "Hugging Face Llama checkpoints (config.json, safetensors, tokenizer.json); text only",
            factory: HFCausalLM.factory)
        try r.backbones.register(
            name: "llava",
            summary: "Hugging Face LLaVA-1.5 checkpoints: CLIP tower, projector, Llama/Qwen2 decoder; images",
            factory: HFLLaVA.factory)
        try r.backbones.register(
            name: "llava_onevision",
            summary: "Hugging Face LLaVA-OneVision checkpoints: SigLIP tower, anyres tiles, Qwen2 decoder; images",
            factory: HFLLaVA.factory)
        try r.backbones.register(
            name: "qwen2_vl",
            summary:
                "Hugging Face Qwen2-VL checkpoints: ViT with 2D RoPE, patch merger, Qwen2 decoder with M-RoPE; images",
            factory: HFQwen2VL.factory)
        try r.backbones.register(
            name: "qwen2_5_vl",
            summary:
                "Hugging Face Qwen2.5-VL checkpoints: windowed ViT, patch merger, Qwen2 decoder with M-RoPE; images",
            factory: HFQwen2VL.factory)
    }

    /// Every strategy module of the package registers its names here.
    static func registerBuiltInStrategies(_ r: SkillTuneRegistries) throws {
        try ComponentTuningStrategies.register(in: r.strategies)
        try LoRAStrategies.register(in: r.strategies)
        try LwFStrategies.register(in: r.strategies)
        try WiSEFTStrategies.register(in: r.strategies)
        try MoEStrategies.register(in: r.strategies)
    }
}
