/// Internals of `Storage`'s memory for tests (see `LargeBlocks`).
public enum StorageTesting {
    /// Storages of at least this many bytes reuse the memory of freed ones.
    public static var largeMinimumBytes: Int { LargeBlocks.minimumBytes }
    /// The most bytes of freed large storages kept for reuse.
    public static var keptLargeBytesLimit: Int { LargeBlocks.cachedBytesLimit }
    /// Bytes of freed large storages kept for reuse now.
    public static var keptLargeBytes: Int { LargeBlocks.keptBytes }
    /// Frees the kept memory of freed large storages.
    public static func releaseKeptLargeBlocks() { LargeBlocks.releaseAll() }
}
