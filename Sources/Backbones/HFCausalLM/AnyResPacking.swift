import Foundation
import Kernel

/// LLaVA-OneVision's `pack_image_features` for one image alone in its prompt, as transformers does it (and so the
/// processor's count of its features, `AnyResImageProcessor.featureCount`): the
/// whole-image tile's features first, then the grid tiles' features laid out as one picture
/// (`num_patch_height * side` x `num_patch_width * side`), cropped back to the image's aspect ratio
/// (`unpad_image`), shrunk bilinearly when larger than `anyres_max_N` tiles (`interpolate(mode="bilinear")`,
/// corners not aligned), with `image_newline` after every row.
///
/// Everything is a row selection, a concatenation or a fixed linear map of the features, so gradients reach the
/// projector, the tower and `image_newline`.
struct AnyResPacking {
    /// Grid tiles down and across.
    let gridRows: Int
    let gridColumns: Int
    /// Features per tile side.
    let side: Int
    /// The cropped picture's rows and columns (before any shrinking): `rowRange` x `columnRange` of the full one.
    let rowRange: Range<Int>
    let columnRange: Range<Int>
    /// The size after shrinking (the cropped size when no shrinking is needed).
    let outputRows: Int
    let outputColumns: Int

    init(
        imageHeight: Int, imageWidth: Int, grid: (height: Int, width: Int), tile: (height: Int, width: Int), side: Int,
        maxTiles: Int
    ) {
        gridRows = grid.height / tile.height
        gridColumns = grid.width / tile.width
        self.side = side
        let height = gridRows * side
        let width = gridColumns * side
        func pythonIntRound7(_ x: Double) -> Int { Int(((x * 1e7).rounded()) / 1e7) }
        var rows = 0..<height
        var columns = 0..<width
        if Double(imageWidth) / Double(imageHeight) > Double(width) / Double(height) {
            let newHeight = pythonIntRound7(Double(imageHeight) * (Double(width) / Double(imageWidth)))
            let padding = (height - newHeight) / 2
            rows = padding..<(height - padding)
        } else {
            let newWidth = pythonIntRound7(Double(imageWidth) * (Double(height) / Double(imageHeight)))
            let padding = (width - newWidth) / 2
            columns = padding..<(width - padding)
        }
        rowRange = rows
        columnRange = columns
        let ratio = (Double(rows.count * columns.count) / Double(maxTiles * side * side)).squareRoot()
        if ratio > 1.1 {
            outputRows = Int((Double(rows.count) / ratio).rounded(.down))
            outputColumns = Int((Double(columns.count) / ratio).rounded(.down))
        } else {
            outputRows = rows.count
            outputColumns = columns.count
        }
    }

    /// Features of the packed image: [side*side + outputRows * (outputColumns + 1), hidden].
    /// - Parameters:
    ///   - tiles: [(1 + gridRows * gridColumns) * side * side, hidden], the whole-image tile first.
    ///   - newline: `image_newline` [hidden].
    func pack(_ tiles: Tensor, newline: Tensor) -> Tensor {
        let d = tiles.shape[1]
        let perTile = side * side
        precondition(
            tiles.shape[0] == (1 + gridRows * gridColumns) * perTile,
            "anyres: \(tiles.shape[0]) features for a \(gridRows)x\(gridColumns) grid of \(perTile)")
        // The cropped picture, row-major.
        var crop: [Int] = []
        crop.reserveCapacity(rowRange.count * columnRange.count)
        for y in rowRange {
            for x in columnRange {
                let tile = 1 + (y / side) * gridColumns + x / side
                crop.append(tile * perTile + (y % side) * side + x % side)
            }
        }
        var picture = tiles.indexSelect(axis: 0, indices: crop)
        if outputRows != rowRange.count || outputColumns != columnRange.count {
            picture = shrink(picture, rows: rowRange.count, columns: columnRange.count, d: d)
        }
        // Each row of the picture, then the newline (the last row of `source`).
        let source = concat([picture, newline.reshaped([1, d])], axis: 0)
        let newlineRow = outputRows * outputColumns
        var order: [Int] = []
        order.reserveCapacity(outputRows * (outputColumns + 1))
        for y in 0..<outputRows {
            for x in 0..<outputColumns { order.append(y * outputColumns + x) }
            order.append(newlineRow)
        }
        let base = tiles.slice(axis: 0, start: 0, end: perTile)
        return concat([base, source.indexSelect(axis: 0, indices: order)], axis: 0)
    }

    /// PyTorch's bilinear `interpolate` (align_corners=False) of a rows x columns picture [rows*columns, d] to
    /// outputRows x outputColumns, separably: down the columns, then along the rows.
    private func shrink(_ picture: Tensor, rows: Int, columns: Int, d: Int) -> Tensor {
        let vertical = Self.weights(from: rows, to: outputRows)
        let horizontal = Self.weights(from: columns, to: outputColumns)
        // [outRows, rows] x [rows, columns*d].
        let tall = matmul(vertical, picture.reshaped([rows, columns * d]))
        // [outColumns, columns] x [columns, outRows*d] after putting columns first.
        let across = tall.reshaped([outputRows, columns, d]).transposed(0, 1).reshaped([columns, outputRows * d])
        let wide = matmul(horizontal, across)
        return wide.reshaped([outputColumns, outputRows, d]).transposed(0, 1).reshaped([outputRows * outputColumns, d])
    }

    /// The [outputSize, inputSize] interpolation matrix of one axis: PyTorch's source index
    /// `(i + 0.5) * in / out - 0.5`, clamped at 0, between its floor and the next index.
    static func weights(from input: Int, to output: Int) -> Tensor {
        let m = Tensor(zeros: [output, input])
        let scale = Float(input) / Float(output)
        for i in 0..<output {
            let source = max(scale * (Float(i) + 0.5) - 0.5, 0)
            let lower = min(Int(source), input - 1)
            let upper = min(lower + 1, input - 1)
            let fraction = source - Float(lower)
            m.data[i * input + lower] += 1 - fraction
            m.data[i * input + upper] += fraction
        }
        return m
    }
}
