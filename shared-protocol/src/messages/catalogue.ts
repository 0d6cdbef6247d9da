/**
 * The one message catalogue for everything a rider, driver or operator reads. Simplified Chinese
 * is the default language; every entry also has English. Placeholders are written {name}.
 */
export type Language = 'zh' | 'en';
export const DEFAULT_LANGUAGE: Language = 'zh';

export interface CatalogueEntry {
  zh: string;
  en: string;
}

/** Beep patterns of the reader's buzzer. */
export type BeepPattern = 'ok' | 'concession' | 'warning' | 'error';

export interface RiderPromptEntry extends CatalogueEntry {
  /** Voice prompt file id, played by the RiderFeedback adapter. */
  voice: string;
  beep: BeepPattern;
}

export const RIDER_PROMPTS = {
  'fare-paid': { zh: '刷卡成功', en: 'Fare paid', voice: 'v01-success', beep: 'ok' },
  'card-type-student': { zh: '学生卡', en: 'Student card', voice: 'v11-student', beep: 'concession' },
  'card-type-senior': { zh: '老年卡', en: 'Senior card', voice: 'v12-senior', beep: 'concession' },
  'card-type-disabled': { zh: '爱心卡', en: 'Disability card', voice: 'v13-disabled', beep: 'concession' },
  'card-type-staff': { zh: '员工卡', en: 'Staff card', voice: 'v14-staff', beep: 'concession' },
  'card-type-monthly': { zh: '月票卡', en: 'Monthly pass', voice: 'v15-monthly', beep: 'concession' },
  'low-balance': { zh: '请充值', en: 'Please top up', voice: 'v21-top-up', beep: 'warning' },
  'insufficient-balance': { zh: '余额不足', en: 'Insufficient balance', voice: 'v22-insufficient', beep: 'error' },
  'repeat-tap': { zh: '请勿重复刷卡', en: 'Card already tapped', voice: 'v23-repeat', beep: 'error' },
  'invalid-card': { zh: '无效卡', en: 'Invalid card', voice: 'v24-invalid', beep: 'error' },
  'card-expired': { zh: '卡片已过期', en: 'Card expired', voice: 'v25-expired', beep: 'error' },
  'card-not-allowed': { zh: '此卡不能乘车', en: 'Card not valid on this bus', voice: 'v26-not-allowed', beep: 'error' },
  'tap-again': { zh: '请重刷', en: 'Please tap again', voice: 'v27-tap-again', beep: 'error' },
  'card-read-error': { zh: '读卡失败,请重刷', en: 'Card read failed, please tap again', voice: 'v27-tap-again', beep: 'error' },
  'terminal-fault': { zh: '设备故障,请投币', en: 'Reader fault, please pay cash', voice: 'v28-fault', beep: 'error' },
  'trip-recovered': { zh: '刷卡成功', en: 'Fare paid', voice: 'v01-success', beep: 'ok' },
} as const satisfies Record<string, RiderPromptEntry>;

export type RiderPromptId = keyof typeof RIDER_PROMPTS;

/** Text on operator and driver pages. */
export const UI_TEXT = {
  'console.title': { zh: '公交清分中心', en: 'Bus clearing centre' },
  'console.language': { zh: 'English', en: '中文' },
  'console.totals': { zh: '按终端和日期汇总', en: 'Totals by terminal and day' },
  'console.liveTaps': { zh: '实时刷卡', en: 'Live taps' },
  'console.terminal': { zh: '终端', en: 'Terminal' },
  'console.day': { zh: '日期', en: 'Day' },
  'console.count': { zh: '笔数', en: 'Count' },
  'console.amount': { zh: '金额(元)', en: 'Amount (yuan)' },
  'console.time': { zh: '时间', en: 'Time' },
  'console.card': { zh: '卡号', en: 'Card' },
  'console.cardType': { zh: '卡类', en: 'Card type' },
  'console.kind': { zh: '类型', en: 'Kind' },
  'console.rejected': { zh: '拒收记录', en: 'Rejected records' },
  'console.inDoubt': { zh: '可疑交易', en: 'In-doubt records' },
  'console.cleared': { zh: '已清分', en: 'Cleared' },
  'console.route': { zh: '线路', en: 'Route' },
  'console.noData': { zh: '暂无数据', en: 'No data yet' },
  'cardType.ordinary': { zh: '普通卡', en: 'Ordinary' },
  'cardType.student': { zh: '学生卡', en: 'Student' },
  'cardType.senior': { zh: '老年卡', en: 'Senior' },
  'cardType.disabled': { zh: '爱心卡', en: 'Disability' },
  'cardType.staff': { zh: '员工卡', en: 'Staff' },
  'cardType.monthly': { zh: '月票卡', en: 'Monthly pass' },
  'cardType.tunion-out-of-town': { zh: '异地交通联合卡', en: 'Out-of-town T-Union' },
  'kind.purchase': { zh: '消费', en: 'Purchase' },
  'kind.in-doubt': { zh: '可疑', en: 'In doubt' },
  'kind.resolution': { zh: '补记', en: 'Resolution' },
  'console.summary': { zh: '概况', en: 'Overview' },
  'console.clearedAmount': { zh: '清分金额(元)', en: 'Cleared amount (yuan)' },
  'console.duplicates': { zh: '已忽略的重复记录', en: 'Duplicates ignored' },
  'console.sequence': { zh: '流水号', en: 'Sequence' },
  'console.reason': { zh: '原因', en: 'Reason' },
  'console.verification': { zh: '验证', en: 'Verification' },
  'console.vehicle': { zh: '车辆', en: 'Vehicle' },
  'console.live.connected': { zh: '实时更新中', en: 'Live' },
  'console.live.disconnected': { zh: '连接中断,正在重连', en: 'Disconnected, reconnecting' },
  'verification.verified': { zh: 'TAC已验证', en: 'TAC verified' },
  'verification.queued-for-issuer': { zh: '待发卡机构验证', en: 'Queued for the issuer' },
  'verification.not-applicable': { zh: '无需验证', en: 'Nothing to verify' },
} as const satisfies Record<string, CatalogueEntry>;

export type UiTextId = keyof typeof UI_TEXT;

export function riderPrompt(id: RiderPromptId, language: Language = DEFAULT_LANGUAGE): string {
  return RIDER_PROMPTS[id][language];
}

export function uiText(id: UiTextId, language: Language = DEFAULT_LANGUAGE, params: Record<string, string | number> = {}): string {
  return UI_TEXT[id][language].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Formats fen as yuan with two decimals ("2.00"). */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
