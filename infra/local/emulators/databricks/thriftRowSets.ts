// Results on the wire: the Thrift schema (TTypeId per column) and rows either as Arrow IPC batches (what real
// warehouses send, and what keeps DECIMAL/BIGINT exact with preserveBigNumericPrecision) or as TColumns
// (COLUMN_BASED_SET, used when the client disables Arrow).
import { createRequire } from 'node:module';
import { thrift } from '@databricks/sql';
import thriftLib from 'thrift';
import type * as Arrow from 'apache-arrow' with { 'resolution-mode': 'require' };
import { formatDate, formatDecimal, formatTimestamp, type CellValue, type ResultSet } from './results.ts';
import type { SparkType } from './sparkTypes.ts';

const T = thrift.TCLIService_types;
type TTableSchema = InstanceType<typeof T.TTableSchema>;
type TRowSet = InstanceType<typeof T.TRowSet>;
type TColumn = InstanceType<typeof T.TColumn>;
type Int64 = InstanceType<typeof thriftLib.Int64>;

// The driver decodes Arrow with its own apache-arrow; encode with that same copy so the formats always agree.
const requireFromDriver = createRequire(createRequire(import.meta.url).resolve('@databricks/sql'));
const arrow = requireFromDriver('apache-arrow') as typeof Arrow;

/** What the client said it can decode natively (TExecuteStatementReq.useArrowNativeTypes). */
export interface ArrowOptions {
  readonly decimalAsArrow: boolean;
  readonly timestampAsArrow: boolean;
}

export function toInt64(value: bigint | number): Int64 {
  const big = BigInt(value);
  return new thriftLib.Int64(BigInt.asUintN(64, big).toString(16).padStart(16, '0'));
}

// ---- Schema -------------------------------------------------------------------------------------------

function typeId(type: SparkType): number {
  const ids = T.TTypeId;
  switch (type.kind) {
    case 'decimal':
      return ids.DECIMAL_TYPE;
    case 'array':
      return ids.ARRAY_TYPE;
    case 'map':
      return ids.MAP_TYPE;
    case 'struct':
      return ids.STRUCT_TYPE;
    case 'primitive':
      return {
        string: ids.STRING_TYPE,
        int: ids.INT_TYPE,
        bigint: ids.BIGINT_TYPE,
        smallint: ids.SMALLINT_TYPE,
        tinyint: ids.TINYINT_TYPE,
        double: ids.DOUBLE_TYPE,
        float: ids.FLOAT_TYPE,
        boolean: ids.BOOLEAN_TYPE,
        date: ids.DATE_TYPE,
        timestamp: ids.TIMESTAMP_TYPE,
        timestamp_ntz: ids.TIMESTAMP_TYPE,
        binary: ids.BINARY_TYPE,
        void: ids.NULL_TYPE,
      }[type.name];
  }
}

export function thriftSchema(result: ResultSet): TTableSchema {
  return new T.TTableSchema({
    columns: result.columns.map(
      (column, i) =>
        new T.TColumnDesc({
          columnName: column.name,
          position: i + 1,
          typeDesc: new T.TTypeDesc({
            types: [
              new T.TTypeEntry({
                primitiveEntry: new T.TPrimitiveTypeEntry({
                  type: typeId(column.type),
                  ...(column.type.kind === 'decimal'
                    ? {
                        typeQualifiers: new T.TTypeQualifiers({
                          qualifiers: {
                            precision: new T.TTypeQualifierValue({ i32Value: column.type.precision }),
                            scale: new T.TTypeQualifierValue({ i32Value: column.type.scale }),
                          },
                        }),
                      }
                    : {}),
                }),
              }),
            ],
          }),
        }),
    ),
  });
}

// ---- COLUMN_BASED_SET ---------------------------------------------------------------------------------

/** Thrift's null bitmap: bit i (LSB first) set when row i is NULL. */
function nullBits(values: readonly CellValue[]): Buffer {
  const bits = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null) bits[i >> 3]! |= 1 << (i & 7);
  });
  return bits;
}

function textOf(type: SparkType, value: CellValue): string {
  if (value === null) return '';
  if (type.kind === 'decimal') return formatDecimal(value as bigint, type.scale);
  if (type.kind === 'primitive' && type.name === 'date') return formatDate(value as number);
  if (type.kind === 'primitive' && (type.name === 'timestamp' || type.name === 'timestamp_ntz')) return formatTimestamp(value as bigint);
  return String(value);
}

function thriftColumn(type: SparkType, values: readonly CellValue[]): TColumn {
  const nulls = nullBits(values);
  const numbers = () => values.map((v) => (v === null ? 0 : Number(v)));
  if (type.kind === 'primitive') {
    switch (type.name) {
      case 'boolean':
        return new T.TColumn({ boolVal: new T.TBoolColumn({ values: values.map((v) => v === true), nulls }) });
      case 'tinyint':
        return new T.TColumn({ byteVal: new T.TByteColumn({ values: numbers(), nulls }) });
      case 'smallint':
        return new T.TColumn({ i16Val: new T.TI16Column({ values: numbers(), nulls }) });
      case 'int':
        return new T.TColumn({ i32Val: new T.TI32Column({ values: numbers(), nulls }) });
      case 'bigint':
        return new T.TColumn({ i64Val: new T.TI64Column({ values: values.map((v) => toInt64((v as bigint | null) ?? 0n)), nulls }) });
      case 'float':
      case 'double':
        return new T.TColumn({ doubleVal: new T.TDoubleColumn({ values: numbers(), nulls }) });
      case 'binary':
        return new T.TColumn({
          binaryVal: new T.TBinaryColumn({ values: values.map((v) => Buffer.from((v as Uint8Array | null) ?? [])), nulls }),
        });
      default:
        break;
    }
  }
  return new T.TColumn({ stringVal: new T.TStringColumn({ values: values.map((v) => textOf(type, v)), nulls }) });
}

/** Rows [start, end) as TColumns. DECIMAL travels as exact text (the driver turns it into a JS number). */
export function columnBasedRowSet(result: ResultSet, start: number, end: number): TRowSet {
  return new T.TRowSet({
    startRowOffset: toInt64(start),
    rows: [],
    columns: result.columns.map((column, c) => thriftColumn(column.type, result.data[c]!.slice(start, end))),
  });
}

// ---- ARROW_BASED_SET ----------------------------------------------------------------------------------

function validity(values: readonly CellValue[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount += 1;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

function arrowType(type: SparkType, options: ArrowOptions): Arrow.DataType {
  if (type.kind === 'decimal') return options.decimalAsArrow ? new arrow.Decimal(type.scale, type.precision, 128) : new arrow.Utf8();
  if (type.kind !== 'primitive') return new arrow.Utf8(); // JSON text; the driver parses ARRAY/MAP/STRUCT columns
  switch (type.name) {
    case 'boolean':
      return new arrow.Bool();
    case 'tinyint':
      return new arrow.Int8();
    case 'smallint':
      return new arrow.Int16();
    case 'int':
      return new arrow.Int32();
    case 'bigint':
      return new arrow.Int64();
    case 'float':
      return new arrow.Float32();
    case 'double':
      return new arrow.Float64();
    case 'date':
      return new arrow.DateDay();
    case 'timestamp':
    case 'timestamp_ntz':
      return options.timestampAsArrow ? new arrow.TimestampMicrosecond('Etc/UTC') : new arrow.Utf8();
    case 'binary':
      return new arrow.Binary();
    case 'void':
      return new arrow.Null();
    case 'string':
      return new arrow.Utf8();
  }
}

function arrowData(type: SparkType, arrowDataType: Arrow.DataType, values: readonly CellValue[]): Arrow.Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validity(values);
  const fixed = (data: ArrayLike<number> | ArrayLike<bigint>) =>
    arrow.makeData({ type: arrowDataType as Arrow.Int, length, nullCount, nullBitmap, data: data as Int32Array });

  if (arrow.DataType.isNull(arrowDataType)) return arrow.makeData({ type: arrowDataType as Arrow.Null, length });
  if (arrow.DataType.isDecimal(arrowDataType)) {
    const words = new Uint32Array(length * 4);
    const view = new DataView(words.buffer);
    values.forEach((v, i) => {
      const unsigned = BigInt.asUintN(128, (v as bigint | null) ?? 0n);
      view.setBigUint64(i * 16, unsigned & 0xffff_ffff_ffff_ffffn, true);
      view.setBigUint64(i * 16 + 8, unsigned >> 64n, true);
    });
    return arrow.makeData({ type: arrowDataType as Arrow.Decimal, length, nullCount, nullBitmap, data: words });
  }
  if (arrow.DataType.isTimestamp(arrowDataType)) return fixed(BigInt64Array.from(values, (v) => (v as bigint | null) ?? 0n));
  if (arrow.DataType.isDate(arrowDataType)) return fixed(Int32Array.from(values, (v) => (v as number | null) ?? 0));
  if (arrow.DataType.isInt(arrowDataType)) {
    const ints = arrowDataType as Arrow.Int;
    if (ints.bitWidth === 64) return fixed(BigInt64Array.from(values, (v) => (v as bigint | null) ?? 0n));
    const numbers = values.map((v) => (v as number | null) ?? 0);
    return fixed(ints.bitWidth === 8 ? new Int8Array(numbers) : ints.bitWidth === 16 ? new Int16Array(numbers) : new Int32Array(numbers));
  }
  if (arrow.DataType.isFloat(arrowDataType)) {
    const numbers = values.map((v) => (v as number | null) ?? 0);
    return fixed((arrowDataType as Arrow.Float).precision === arrow.Precision.SINGLE ? new Float32Array(numbers) : new Float64Array(numbers));
  }
  if (arrow.DataType.isBool(arrowDataType)) return arrow.vectorFromArray(values as (boolean | null)[], new arrow.Bool()).data[0]!;
  if (arrow.DataType.isBinary(arrowDataType)) return arrow.vectorFromArray(values as (Uint8Array | null)[], new arrow.Binary()).data[0]!;
  const texts = values.map((v) => (v === null ? null : textOf(type, v)));
  return arrow.vectorFromArray(texts, new arrow.Utf8()).data[0]!;
}

function arrowSchemaOf(result: ResultSet, options: ArrowOptions): Arrow.Schema {
  return new arrow.Schema(result.columns.map((c) => new arrow.Field(c.name, arrowType(c.type, options), true)));
}

const IPC_END_OF_STREAM_BYTES = 8;

/** The Arrow IPC schema message sent in TGetResultSetMetadataResp.arrowSchema. */
export function arrowSchemaBytes(result: ResultSet, options: ArrowOptions): Buffer {
  const stream = arrow.tableToIPC(new arrow.Table(arrowSchemaOf(result, options)), 'stream');
  return Buffer.from(stream.subarray(0, stream.length - IPC_END_OF_STREAM_BYTES));
}

/** Rows [start, end) as one Arrow record batch (IPC message, without the schema). */
export function arrowRowSet(result: ResultSet, start: number, end: number, options: ArrowOptions): TRowSet {
  const rowCount = end - start;
  const batches = [];
  if (rowCount > 0 && result.columns.length > 0) {
    const schema = arrowSchemaOf(result, options);
    const children = result.columns.map((c, i) => arrowData(c.type, schema.fields[i]!.type, result.data[i]!.slice(start, end)));
    const batch = new arrow.RecordBatch(
      schema,
      arrow.makeData({ type: new arrow.Struct(schema.fields), length: rowCount, nullCount: 0, children }),
    );
    const stream = arrow.tableToIPC(new arrow.Table(schema, [batch]), 'stream');
    const schemaLength = arrowSchemaBytes(result, options).length;
    const message = Buffer.from(stream.subarray(schemaLength, stream.length - IPC_END_OF_STREAM_BYTES));
    batches.push(new T.TSparkArrowBatch({ batch: message, rowCount: toInt64(rowCount) }));
  }
  return new T.TRowSet({ startRowOffset: toInt64(start), rows: [], arrowBatches: batches });
}
