import Foundation

/// Reading and writing image files, with the format chosen by content (reading) or extension (writing).
/// PNG, PPM and JPEG are read; PNG and PPM are written.
public enum ImageFile {
    public enum Format: String, Sendable { case ppm, png, jpeg }

    /// The format of encoded bytes from their magic number, or nil.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if bytes.count >= 8 && Array(bytes[0..<8]) == PNG.signature { return .png }
        if JPEG.looksLikeJPEG(bytes) { return .jpeg }
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: "P")
            && (bytes[1] == UInt8(ascii: "6") || bytes[1] == UInt8(ascii: "3"))
        {
            return .ppm
        }
        return nil
    }

    /// Decodes PNG, PPM or JPEG bytes (by magic number); `file` names the source in errors. Bytes of no known
    /// format named `.jpg`/`.jpeg` are handed to the JPEG decoder, so its error says what is wrong with them.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>", limits: ImageLimits = .standard) throws
        -> Image
    {
        switch sniff(bytes) {
        case .png: return try PNG.decode(bytes, file: file, limits: limits)
        case .ppm: return try PPM.decode(bytes, file: file, limits: limits)
        case .jpeg: return try JPEG.decode(bytes, file: file, limits: limits)
        case nil:
            let ext = URL(fileURLWithPath: file).pathExtension.lowercased()
            if ext == "jpg" || ext == "jpeg" { return try JPEG.decode(bytes, file: file, limits: limits) }
            throw ImageCodecError(file: file, reason: "not a PNG, PPM (P6/P3) or JPEG image")
        }
    }

    /// Reads a PNG, PPM or JPEG file. Files larger than any image within `limits` could be are refused unread.
    public static func read(_ url: URL, limits: ImageLimits = .standard) throws -> Image {
        let name = url.path
        let attributes = try? FileManager.default.attributesOfItem(atPath: name)
        // Only regular files: a device or a pipe (/dev/zero, a FIFO) would be read without end.
        guard let size = attributes?[.size] as? Int, attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw ImageCodecError(file: name, reason: "cannot read the file (missing or not a regular file)")
        }
        // ASCII PPM is the least dense format we read: at most ~12 bytes per sample with generous whitespace.
        guard size <= limits.maxPixels * 40 + 4096 else {
            throw ImageCodecError(file: name, reason: "file of \(size) bytes is larger than any image within the limit")
        }
        guard let data = FileManager.default.contents(atPath: name) else {
            throw ImageCodecError(file: name, reason: "cannot read the file")
        }
        return try decode([UInt8](data), file: name, limits: limits)
    }

    /// Encodes `image` in `format` (PNG or PPM; JPEG is read only and gives a PNG).
    public static func encode(_ image: Image, as format: Format) -> [UInt8] {
        format == .ppm ? PPM.encode(image) : PNG.encode(image)
    }

    /// Writes `image` atomically (a reader never sees half a file), as PNG for `.png` and PPM for `.ppm`.
    public static func write(_ image: Image, to url: URL) throws {
        let ext = url.pathExtension.lowercased()
        guard let format = Format(rawValue: ext), format != .jpeg else {
            throw ImageCodecError(file: url.path, reason: "unknown image extension '.\(ext)' (use .png or .ppm)")
        }
        do {
            try Data(encode(image, as: format)).write(to: url, options: .atomic)
        } catch {
            throw ImageCodecError(file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
