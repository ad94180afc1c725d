import Foundation

/// Vectorized building blocks shared by the row-wise neural-network ops (softmax, losses, attention, norms):
/// unaligned SIMD loads and stores, a fast `exp`, and row reductions (max, sum, dot).
///
/// Everything works on raw `Float` pointers with 16-lane vectors and a padded tail, so each row is processed
/// in one fixed order: results are bitwise reproducible and do not depend on the thread count.
enum RowKernels {
    typealias Vector = SIMD16<Float>
    static let lanes = 16

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// Loads the `n < 16` floats at `p`; the other lanes hold `fill`. The floats are copied into the vector's
    /// memory and the vector is read back once: setting lanes one by one (`v[i] = p[i]`) stored each value
    /// and reloaded the whole vector after every store, a failed store forwarding per lane (most of a causal
    /// attention row's softmax, whose rows end at every length, went there: `perf annotate`).
    @inline(__always)
    static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float) -> Vector {
        var v = Vector(repeating: fill)
        withUnsafeMutableBytes(of: &v) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: p, count: n * MemoryLayout<Float>.stride))
        }
        return v
    }

    @inline(__always)
    static func storePartial(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    /// Calls `body(i, 16)` for each whole vector starting at i in 0..<n, then `body(i, n - i)` once for a
    /// shorter tail, so one loop body written with `load(_:count:)`/`store(_:_:count:)` serves both (the
    /// whole-vector calls see a constant count and compile to plain vector code).
    @inline(__always)
    static func forEachVector(_ n: Int, _ body: (_ start: Int, _ count: Int) -> Void) {
        var i = 0
        while i + lanes <= n {
            body(i, lanes)
            i += lanes
        }
        if i < n { body(i, n - i) }
    }

    /// Loads min(n, 16) floats: a whole vector, or a padded tail (other lanes 0).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, count n: Int) -> Vector {
        n >= lanes ? load(p) : loadPartial(p, n, fill: 0)
    }

    /// Stores the first min(n, 16) lanes.
    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, count n: Int) {
        if n >= lanes { store(v, p) } else { storePartial(v, p, n) }
    }

    /// e^x per lane (Cephes-style range reduction and degree-6 polynomial, about 2 ulp). Inputs below -87
    /// give exactly 0 (so a masked `-infinity` score contributes nothing); inputs are clamped at 88.
    /// Built from adds, multiplies and integer shifts only, so it vectorizes on baseline x86-64 too.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let low: Float = -87
        let high: Float = 88
        // `replacing` rather than pointwiseMin/Max: those are not inlined and cost a call per vector.
        let lowVector = Vector(repeating: low)
        let highVector = Vector(repeating: high)
        let xc = x.replacing(with: lowVector, where: x .< lowVector).replacing(with: highVector, where: x .> highVector)
        // n = round(x / ln 2) by the 1.5 * 2^23 trick; its integer sits in the low mantissa bits.
        let magic = Vector(repeating: 12_582_912)
        let shifted = xc * 1.442_695_04 + magic
        let n = shifted - magic
        var r = xc - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        let z = r * r
        var p = r * 1.987_569_15e-4 + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * z + r + 1
        // 2^n: (n + 127) << 23; the high bits of the magic constant shift out.
        let bits = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &+ 127) &<< 23
        let scaled = y * unsafeBitCast(bits, to: Vector.self)
        return scaled.replacing(with: 0, where: x .< lowVector)
    }

    /// e^x for one value, the same approximation as the vector form (so scalar tails match their rows).
    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// The largest of `p[0..<n]` (-infinity for n == 0).
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = Vector(repeating: -.infinity)
        var i = 0
        while i + lanes <= n {
            let v = load(p + i)
            m = m.replacing(with: v, where: v .> m)
            i += lanes
        }
        if i < n {
            let v = loadPartial(p + i, n - i, fill: -.infinity)
            m = m.replacing(with: v, where: v .> m)
        }
        return m.max()
    }

    /// Writes `dst[i] = exp(src[i] * scale - shift)` for i < n and returns their sum. `dst` may equal `src`.
    @inline(__always)
    static func expAndSum(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
        scale: Float, shift: Float
    ) -> Float {
        var s = Vector.zero
        let sc = Vector(repeating: scale)
        let sh = Vector(repeating: shift)
        var i = 0
        while i + lanes <= n {
            let e = exp(load(src + i) * sc - sh)
            store(e, dst + i)
            s += e
            i += lanes
        }
        if i < n {
            let e = exp(loadPartial(src + i, n - i, fill: -.infinity) * sc - sh)
            storePartial(e, dst + i, n - i)
            s += e
        }
        return s.sum()
    }

    /// The sum of exp(src[i] * scale - shift) for i < n, without storing the exponentials.
    @inline(__always)
    static func sumOfExp(_ src: UnsafePointer<Float>, _ n: Int, scale: Float, shift: Float) -> Float {
        var s = Vector.zero
        let sc = Vector(repeating: scale)
        let sh = Vector(repeating: shift)
        var i = 0
        while i + lanes <= n {
            s += exp(load(src + i) * sc - sh)
            i += lanes
        }
        if i < n { s += exp(loadPartial(src + i, n - i, fill: -.infinity) * sc - sh) }
        return s.sum()
    }

    /// log(sum(exp(src[i] * scale))) for i < n, stable (the maximum is factored out); `scale` > 0.
    @inline(__always)
    static func logSumExp(_ src: UnsafePointer<Float>, _ n: Int, scale: Float) -> Float {
        let m = max(src, n) * scale
        return m + Foundation.log(sumOfExp(src, n, scale: scale, shift: m))
    }

    /// `p[i] *= factor` for i < n.
    @inline(__always)
    static func scale(_ p: UnsafeMutablePointer<Float>, _ n: Int, by factor: Float) {
        let f = Vector(repeating: factor)
        var i = 0
        while i + lanes <= n {
            store(load(p + i) * f, p + i)
            i += lanes
        }
        while i < n {
            p[i] *= factor
            i += 1
        }
    }

    /// sum of a[i] * b[i] for i < n.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = Vector.zero
        var i = 0
        while i + lanes <= n {
            s = s + load(a + i) * load(b + i)
            i += lanes
        }
        if i < n { s = s + loadPartial(a + i, n - i, fill: 0) * loadPartial(b + i, n - i, fill: 0) }
        return s.sum()
    }

    /// sum of a[i] * b[i] * (c[i] - center) for i < n.
    @inline(__always)
    static func dot3(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ n: Int,
        center: Float = 0
    ) -> Float {
        var s = Vector.zero
        let m = Vector(repeating: center)
        var i = 0
        while i + lanes <= n {
            s = s + load(a + i) * load(b + i) * (load(c + i) - m)
            i += lanes
        }
        if i < n {
            s =
                s + loadPartial(a + i, n - i, fill: 0) * loadPartial(b + i, n - i, fill: 0)
                * (loadPartial(c + i, n - i, fill: center) - m)
        }
        return s.sum()
    }

    /// sum of (p[i] - center)^2 for i < n.
    @inline(__always)
    static func squaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, from center: Float) -> Float {
        var s = Vector.zero
        let m = Vector(repeating: center)
        var i = 0
        while i + lanes <= n {
            let c = load(p + i) - m
            s = s + c * c
            i += lanes
        }
        if i < n {
            let c = loadPartial(p + i, n - i, fill: center) - m
            s = s + c * c
        }
        return s.sum()
    }

    /// sum of p[i] for i < n.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = Vector.zero
        var i = 0
        while i + lanes <= n {
            s += load(p + i)
            i += lanes
        }
        if i < n { s += loadPartial(p + i, n - i, fill: 0) }
        return s.sum()
    }

    /// Calls `body(r)` for every row r < rows, the rows split over threads in contiguous chunks of about 16k
    /// floats (rows of `width`), so small problems stay on one thread.
    @inline(__always)
    static func forEachRow(_ rows: Int, width: Int, _ body: (Int) -> Void) {
        Parallel.forRanges(rows, minimumPerChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
            for r in range { body(r) }
        }
    }
}
