/**
 * T-SQL checked by a real grammar: the generated parser of the public ANTLR T-SQL grammar
 * (npm `antlr4ts-sql`, a devDependency, with `antlr4ts@0.5.0-alpha.4`). Its package index fails
 * to load on Node 20, so the lexer and parser modules are required directly; the grammar's
 * keywords are upper case, so the input goes through its `CaseChangingStream`.
 *
 * The grammar is older than Azure SQL: where it is wrong about valid T-SQL, `GRAMMAR_GAPS` says
 * so, with the documentation that shows the statement valid — never a silent skip.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// ---- the few parts of antlr4ts the check uses (the packages are untyped CommonJS from here) ----

interface ErrorListener {
  syntaxError(recognizer: unknown, offendingSymbol: unknown, line: number, charPositionInLine: number, msg: string, e: unknown): void;
}
interface Recognizer {
  removeErrorListeners(): void;
  addErrorListener(listener: ErrorListener): void;
}
interface Parser extends Recognizer {
  tsql_file(): unknown;
  interpreter: { setPredictionMode(mode: number): void };
}
interface Antlr {
  CharStreams: { fromString(text: string): unknown };
  CommonTokenStream: new (lexer: unknown) => unknown;
}
const antlr = require('antlr4ts') as Antlr;
const { PredictionMode } = require('antlr4ts/atn/PredictionMode') as { PredictionMode: { SLL: number; LL: number } };
const { TSqlLexer } = require('antlr4ts-sql/dist/src/grammar-output/tsql/TSqlLexer') as { TSqlLexer: new (input: unknown) => Recognizer };
const { TSqlParser } = require('antlr4ts-sql/dist/src/grammar-output/tsql/TSqlParser') as { TSqlParser: new (tokens: unknown) => Parser };
const { CaseChangingStream } = require('antlr4ts-sql/dist/src/models/CaseChangingStream') as { CaseChangingStream: new (stream: unknown, upper: boolean) => unknown };

export interface SyntaxError {
  line: number;
  column: number;
  message: string;
}

function parseWith(sql: string, mode: number): SyntaxError[] {
  const errors: SyntaxError[] = [];
  const listener: ErrorListener = {
    syntaxError: (_r, _s, line, column, msg) => errors.push({ line, column, message: msg.length > 160 ? `${msg.slice(0, 160)}…` : msg }),
  };
  const lexer = new TSqlLexer(new CaseChangingStream(antlr.CharStreams.fromString(sql), true));
  lexer.removeErrorListeners();
  lexer.addErrorListener(listener);
  const parser = new TSqlParser(new antlr.CommonTokenStream(lexer));
  parser.removeErrorListeners();
  parser.addErrorListener(listener);
  parser.interpreter.setPredictionMode(mode);
  parser.tsql_file();
  return errors;
}

/**
 * The syntax errors the grammar finds in one batch (none: valid). The fast SLL prediction first;
 * only where it reports an error is the batch parsed again with full LL, which decides.
 */
export function tsqlSyntaxErrors(sql: string): SyntaxError[] {
  const fast = parseWith(sql, PredictionMode.SLL);
  return fast.length === 0 ? fast : parseWith(sql, PredictionMode.LL);
}

/** `line:column` with the text there, for a failure message. */
export function describeSyntaxError(sql: string, e: SyntaxError): string {
  const line = sql.split('\n')[e.line - 1] ?? '';
  return `line ${e.line}, column ${e.column + 1}: ${e.message}\n    ${line.trim()}\n    near: ${JSON.stringify(line.slice(e.column, e.column + 40))}`;
}

/**
 * Valid T-SQL the grammar does not know. A statement matching `pattern` is reported as such; what
 * follows the match is still parsed when `parseRest` is set (the gap is only the statement's head).
 */
export interface GrammarGap {
  pattern: RegExp;
  why: string;
  docs: string;
  parseRest?: true;
}

export const GRAMMAR_GAPS: readonly GrammarGap[] = [
  {
    // the guarded form the bootstrap generates (ddl.ts, createClusteredIndexSql), and nothing else
    pattern: /^IF NOT EXISTS \(SELECT 1 FROM sys\.indexes WHERE object_id = OBJECT_ID\(N'\w+\.\w+'\) AND index_id = 1\)\nCREATE CLUSTERED COLUMNSTORE INDEX \w+ ON \w+\.\w+$/,
    why: 'the grammar predates columnstore indexes (SQL Server 2014; a clustered columnstore beside a nonclustered primary key since 2016)',
    docs: 'https://learn.microsoft.com/sql/t-sql/statements/create-columnstore-index-transact-sql',
  },
  {
    // the bootstrap's reporting views (ddl.ts, createViewSql): the head only; the SELECT is parsed
    pattern: /^CREATE OR ALTER VIEW reporting\.\w+ AS\n/,
    why: 'the grammar knows CREATE OR ALTER for procedures and functions but not for views (SQL Server 2016 SP1 and later, Azure SQL)',
    docs: 'https://learn.microsoft.com/sql/t-sql/statements/create-view-transact-sql',
    parseRest: true,
  },
  {
    // the reporting role's grant (appAccess.ts, reportingRoleSql): the GRANT line only; the rest is parsed
    pattern: /\nGRANT SELECT ON SCHEMA::reporting TO \w+;$/,
    why: 'the grammar knows no class specifier (SCHEMA::, OBJECT::) in GRANT, valid since SQL Server 2005',
    docs: 'https://learn.microsoft.com/sql/t-sql/statements/grant-schema-permissions-transact-sql',
    parseRest: true,
  },
];

export function grammarGap(sql: string): GrammarGap | undefined {
  return GRAMMAR_GAPS.find((g) => g.pattern.test(sql));
}
