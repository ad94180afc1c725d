import Foundation
import Kernel

/// A page a person can look at: a benchmark's examples as one picture plus their prompts and answers.
public enum ContactSheet {
    /// What `write` produced.
    public struct Output {
        public var sheet: URL
        public var text: URL
        public var jsonl: URL
        public var exampleCount: Int
    }

    /// Writes, into `directory` (created if needed):
    /// - `sheet.png`: the examples' images in a grid, row by row, each scaled `scale` times with nearest
    ///   neighbour, under a dark strip with its index, separated by dark lines;
    /// - `examples.txt`: index, id, prompt and answer of each example, in the same order;
    /// - `examples.jsonl` and `images/NNNN.png`: the same examples in the format the `jsonl` benchmark reads.
    @discardableResult
    /// With `descriptions`, the benchmark's dense-description examples (pretraining data) are shown instead of
    /// its questions.
    public static func write(
        _ benchmark: any Benchmark, count: Int = 16, seed: UInt64 = 0, split: Split = .eval,
        descriptions: Bool = false, to directory: URL, scale: Int = 4
    ) throws -> Output {
        precondition(count > 0 && scale >= 1, "ContactSheet: count \(count) and scale \(scale) must be positive")
        let examples =
            descriptions
            ? try benchmark.descriptionExamples(split, count: count, seed: seed)
            : try benchmark.examples(split, count: count, seed: seed)
        guard !examples.isEmpty else {
            throw ExampleGenerationError(
                description: "\(benchmark.name) has no description examples (only the held-out abilities do)")
        }
        let fm = FileManager.default
        let imagesDirectory = directory.appendingPathComponent("images")
        try fm.createDirectory(at: imagesDirectory, withIntermediateDirectories: true)

        var text = "\(benchmark.name) (\(benchmark.role.rawValue)): \(benchmark.summary)\n"
        text += "\(examples.count) \(split.rawValue) examples, seed \(seed); the sheet shows them row by row.\n\n"
        var jsonl = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (i, example) in examples.enumerated() {
            text += "#\(i)  \(example.id)\n\(example.prompt)\n=> \(example.answer)\n\n"
            var record = Record(
                prompt: example.prompt, answer: example.answer, image: nil, id: example.id, split: split.rawValue)
            if let image = example.image {
                let name = String(format: "images/%04d.png", i)
                try ImageFile.write(image, to: directory.appendingPathComponent(name))
                record.image = name
            }
            jsonl += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        }
        let output = Output(
            sheet: directory.appendingPathComponent("sheet.png"),
            text: directory.appendingPathComponent("examples.txt"),
            jsonl: directory.appendingPathComponent("examples.jsonl"), exampleCount: examples.count)
        try ImageFile.write(sheet(examples.map(\.image), scale: scale), to: output.sheet)
        try Data(text.utf8).write(to: output.text, options: .atomic)
        try Data(jsonl.utf8).write(to: output.jsonl, options: .atomic)
        return output
    }

    struct Record: Encodable {
        var prompt: String
        var answer: String
        var image: String?
        var id: String
        var split: String
    }

    /// The grid picture: about square, each cell `scale` times its image, labelled with its index.
    public static func sheet(_ images: [Image?], scale: Int = 4) -> Image {
        let cellWidth = (images.compactMap { $0?.width }.max() ?? 32) * scale
        let cellHeight = (images.compactMap { $0?.height }.max() ?? 32) * scale
        let columns = max(1, Int(Double(images.count).squareRoot().rounded(.up)))
        let rows = max(1, (images.count + columns - 1) / columns)
        let gap = 2
        let label = 11
        let width = columns * cellWidth + (columns + 1) * gap
        let height = rows * (cellHeight + label) + (rows + 1) * gap
        var pixels = [UInt8](repeating: 40, count: width * height * 3)
        func set(_ x: Int, _ y: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
            let i = (y * width + x) * 3
            pixels[i] = r
            pixels[i + 1] = g
            pixels[i + 2] = b
        }
        for (n, image) in images.enumerated() {
            let left = gap + (n % columns) * (cellWidth + gap)
            let top = gap + (n / columns) * (cellHeight + label + gap)
            // The index, in the bitmap font, light on the dark strip.
            var cursor = left + 2
            for character in String(n) {
                for (row, bits) in BitmapFont.glyph(character).enumerated() {
                    for column in 0..<BitmapFont.glyphWidth
                    where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
                        if cursor + column < width { set(cursor + column, top + 2 + row, 230, 230, 230) }
                    }
                }
                cursor += BitmapFont.advance
            }
            let imageTop = top + label
            guard let image else {
                for y in 0..<cellHeight { for x in 0..<cellWidth { set(left + x, imageTop + y, 90, 90, 90) } }
                continue
            }
            for y in 0..<(image.height * scale) {
                for x in 0..<(image.width * scale) {
                    let i = ((y / scale) * image.width + x / scale) * 3
                    set(left + x, imageTop + y, image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
                }
            }
        }
        return Image(width: width, height: height, pixels: pixels)
    }
}
