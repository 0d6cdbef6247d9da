import { type Language, shiftRecordSchema } from '@busfare/shared-protocol';
import type { BusinessDayRule } from '../ingest/business-day.js';
import type { BatchReceipt } from '../ingest/ingest-service.js';
import type { TransactionIngestor } from '../ingest/transaction-ingest.js';
import { OperatorAccounts } from '../operators/operator-accounts.js';
import { type ClearingCentreStores, openClearingCentreStores } from '../store/clearing-centre-stores.js';
import { SqliteConsoleQueries } from '../store/console-queries.js';
import type { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { describeIssues } from '../zod-issues.js';
import { type Atomic, type AuditRecorder, auditRecorder } from './audit.js';
import { assertBusinessDay, businessDayOf } from './business-days.js';
import { ClearingError } from './clearing-error.js';
import { type BlacklistLookup, CustomerService } from './customer-service.js';
import { ExceptionService } from './exception-service.js';
import { settlementItemsCsv, settlementWorkbook } from './exports.js';
import { type ForwardingFile, buildForwardingFile, parseVerdictFile } from './forwarding-file.js';
import { isLocalIssuer, partnerCityOf } from './partners.js';
import { type ReconciliationReport, reconcileDay } from './reconciliation.js';
import { SettlementService } from './settlement-service.js';

/** A downloadable export file. */
export interface SettlementExport {
  fileName: string;
  contentType: string;
  body: Buffer;
}

/** Default lifetime of an operator's login session: one 8-hour shift. */
export const DEFAULT_SESSION_TTL_MS = 8 * 3_600_000;

export interface ClearingCentreOptions {
  repository: SqliteClearingRepository;
  ingestor: TransactionIngestor;
  rule: BusinessDayRule;
  localIssuerPrefixes: readonly string[];
  sessionTtlMs?: number;
  isBlacklisted?: BlacklistLookup;
  now?: () => Date;
}

/**
 * The clearing centre's work on top of ingest: settlement per business day, reconciliation,
 * out-of-town forwarding, exception queues, customer service, operator accounts and the audit log.
 */
export class ClearingCentre {
  readonly stores: ClearingCentreStores;
  readonly queries: SqliteConsoleQueries;
  readonly audit: AuditRecorder;
  /** Runs a change and its audit entry in one transaction of the clearing database. */
  readonly atomic: Atomic;
  readonly settlement: SettlementService;
  readonly exceptions: ExceptionService;
  readonly customerService: CustomerService;
  readonly accounts: OperatorAccounts;
  private readonly now: () => Date;

  constructor(private readonly options: ClearingCentreOptions) {
    this.now = options.now ?? (() => new Date());
    this.stores = openClearingCentreStores(options.repository.database, this.now);
    this.queries = new SqliteConsoleQueries(options.repository.database);
    this.audit = auditRecorder(this.stores.operators);
    const database = options.repository.database;
    this.atomic = <T>(work: () => T): T => database.transaction(work)();
    const atomic = this.atomic;
    this.settlement = new SettlementService({ store: this.stores.settlement, rule: options.rule, localIssuerPrefixes: options.localIssuerPrefixes, audit: this.audit, atomic, now: this.now });
    this.exceptions = new ExceptionService({ store: this.stores.exceptions, repository: options.repository, ingestor: options.ingestor, audit: this.audit, atomic, now: this.now });
    this.customerService = new CustomerService({
      store: this.stores.exceptions,
      audit: this.audit,
      atomic,
      rule: options.rule,
      // Until a lookup is given (startBackOffice gives the published blacklist) no card counts as
      // blacklisted, so balance transfers are refused.
      isBlacklisted: options.isBlacklisted ?? (() => false),
      now: this.now,
    });
    this.accounts = new OperatorAccounts({ store: this.stores.operators, audit: this.audit, sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS, now: this.now });
  }

  /** Returns the centre's current time: the system clock unless the options gave another clock. */
  currentTime(): Date {
    return this.now();
  }

  get rule(): BusinessDayRule {
    return this.options.rule;
  }

  /** The city's own code, the first 4 hex digits of its first local issuer prefix. */
  get cityCode(): string {
    return (this.options.localIssuerPrefixes[0] ?? '0000').slice(0, 4).toUpperCase().padEnd(4, '0');
  }

  businessDayOf(instant: Date): string {
    return businessDayOf(instant.toISOString(), this.options.rule);
  }

  reconcile(day: string): ReconciliationReport {
    return reconcileDay(day, { store: this.stores.reconciliation, settlement: this.stores.settlement, exceptions: this.stores.exceptions, rule: this.options.rule });
  }

  /** Validates and stores a driver's shift record, as ingest does for the shifts topic; returns whether it was new. */
  recordShift(value: unknown): boolean {
    const parsed = shiftRecordSchema.safeParse(value);
    if (!parsed.success) throw new ClearingError('invalid', `invalid shift record: ${describeIssues(parsed.error).join('; ')}`);
    return this.options.repository.storeShift(parsed.data);
  }

  /** Keeps the receipt of a batch that held copies of stored records, for reconciliation. */
  recordBatchReceipt(receipt: BatchReceipt): void {
    if (receipt.ack.duplicates === 0) return;
    this.stores.reconciliation.recordReceipt({
      terminalId: receipt.terminalId,
      batchId: receipt.ack.batchId ?? '',
      businessDay: businessDayOf(receipt.receivedAt.toISOString(), this.options.rule),
      stored: receipt.ack.stored,
      duplicates: receipt.ack.duplicates,
    });
  }

  /**
   * Builds the CSV or Excel export of a settled day, of every item or only those of one partner
   * city's cards. Throws a ClearingError for a day that is not settled.
   */
  async settlementExport(day: string, format: 'csv' | 'xlsx', language: Language, partnerCity?: string): Promise<SettlementExport> {
    assertBusinessDay(day);
    if (!this.settlement.isSettled(day)) throw new ClearingError('conflict', `business day ${day} is not settled: settle it before exporting`);
    if (partnerCity !== undefined && !/^[0-9A-Fa-f]{4}$/.test(partnerCity)) throw new ClearingError('invalid', `invalid partner city code "${partnerCity}": expected 4 hex digits`);
    const report = this.settlement.report(day);
    let items = this.stores.settlement.settledItems(day);
    if (partnerCity !== undefined) items = items.filter((item) => item.source !== 'adjustment' && partnerCityOf(item.issuerId) === partnerCity.toUpperCase());
    const baseName = `settlement-${day}${partnerCity === undefined ? '' : `-partner-${partnerCity.toUpperCase()}`}`;
    if (format === 'csv') {
      return { fileName: `${baseName}.csv`, contentType: 'text/csv; charset=utf-8', body: Buffer.from(settlementItemsCsv(day, items, language), 'utf8') };
    }
    return {
      fileName: `${baseName}.xlsx`,
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      body: await settlementWorkbook(report, items, language),
    };
  }

  /**
   * Builds one forwarding file per partner city for the out-of-town records of `day` and earlier
   * that await their issuer's answer, and marks them forwarded.
   */
  forwardingFiles(day: string, operator: string): ForwardingFile[] {
    assertBusinessDay(day);
    const awaiting = this.stores.settlement.awaitingIssuer(day).filter((row) => !isLocalIssuer(row.issuerId, this.options.localIssuerPrefixes));
    const byPartner = new Map<string, typeof awaiting>();
    for (const row of awaiting) {
      const partner = partnerCityOf(row.issuerId);
      byPartner.set(partner, [...(byPartner.get(partner) ?? []), row]);
    }
    const files: ForwardingFile[] = [];
    for (const [partner, rows] of [...byPartner.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const file = buildForwardingFile(this.cityCode, partner, day, rows);
      this.atomic(() => {
        this.stores.settlement.markForwarded(file.keys, partner, file.fileName);
        this.audit(operator, 'forwarding.export', file.fileName, { partnerCity: partner, count: file.recordCount, amountFen: file.amountFen });
      });
      files.push(file);
    }
    return files;
  }

  /**
   * Imports a partner's answer file. Every verdict must name a record of that partner that awaits
   * its issuer's answer; the file is refused as a whole otherwise.
   */
  importVerdicts(content: string, operator: string): { confirmed: number; refused: number } {
    const answer = parseVerdictFile(content);
    const awaiting = new Map(
      this.stores.settlement
        .awaitingIssuer('9999-12-31')
        .filter((row) => partnerCityOf(row.issuerId) === answer.partnerCity.toUpperCase())
        .map((row) => [`${row.terminalId}#${row.sequence}`, row]),
    );
    const unknown = answer.verdicts.filter((verdict) => !awaiting.has(`${verdict.terminalId}#${verdict.sequence}`));
    if (unknown.length > 0) {
      const listed = unknown.slice(0, 5).map((verdict) => `${verdict.terminalId}#${verdict.sequence}`).join(', ');
      throw new ClearingError('invalid', `answer file ${answer.forwardedFile} names ${unknown.length} record(s) of partner ${answer.partnerCity} that await no answer: ${listed}`);
    }
    const confirmed = answer.verdicts.filter((verdict) => verdict.verdict === 'confirmed').length;
    const refused = answer.verdicts.length - confirmed;
    this.atomic(() => {
      this.stores.settlement.recordVerdicts(answer.verdicts, answer.forwardedFile);
      this.audit(operator, 'forwarding.import-answer', answer.forwardedFile, { partnerCity: answer.partnerCity, confirmed, refused });
    });
    return { confirmed, refused };
  }
}
