/// Why an image file could not be read or written: the file (or "<memory>") and what was wrong with it.
public struct ImageCodecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file name the bytes came from, or "<memory>".
    public var file: String
    /// What was wrong, in words ("PNG: bad CRC in chunk IDAT").
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Bounds a decoder checks before it allocates, so a hostile header cannot make it reserve gigabytes.
public struct ImageLimits: Sendable {
    /// Largest accepted width * height.
    public var maxPixels: Int
    /// Largest accepted width or height.
    public var maxSide: Int

    public init(maxPixels: Int = 1 << 24, maxSide: Int = 1 << 15) {
        self.maxPixels = maxPixels
        self.maxSide = maxSide
    }

    public static let standard = ImageLimits()

    /// Throws unless `width` x `height` is a non-empty size within these limits.
    func check(width: Int, height: Int, format: String, file: String) throws {
        guard width > 0, height > 0 else {
            throw ImageCodecError(file: file, reason: "\(format): empty image size \(width)x\(height)")
        }
        guard width <= maxSide, height <= maxSide, width * height <= maxPixels else {
            throw ImageCodecError(
                file: file,
                reason: "\(format): size \(width)x\(height) exceeds the limit of \(maxPixels) pixels "
                    + "(side at most \(maxSide))")
        }
    }
}
