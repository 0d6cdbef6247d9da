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
  'card-read-error': { zh: '读卡失败，请重刷', en: 'Card read failed, please tap again', voice: 'v27-tap-again', beep: 'error' },
  'terminal-fault': { zh: '设备故障，请投币', en: 'Reader fault, please pay cash', voice: 'v28-fault', beep: 'error' },
  'trip-recovered': { zh: '刷卡成功', en: 'Fare paid', voice: 'v01-success', beep: 'ok' },
  companion: { zh: '同行乘客已扣费', en: 'Companion fare paid', voice: 'v31-companion', beep: 'ok' },
  transfer: { zh: '换乘优惠', en: 'Transfer discount', voice: 'v32-transfer', beep: 'ok' },
  'please-tap-off': { zh: '下车请刷卡', en: 'Please tap again when you get off', voice: 'v33-tap-off', beep: 'ok' },
  'tap-on-first': { zh: '请到前门上车刷卡', en: 'No boarding tap found, please tap at the front door', voice: 'v34-tap-on-first', beep: 'error' },
  'missing-tap-off-charged': { zh: '上次下车未刷卡，已补扣', en: 'Missed tap-off charged', voice: 'v35-missed-tap-off', beep: 'warning' },
  'pass-not-valid': { zh: '月票不在有效期内，按次扣费', en: 'Pass not valid today, fare paid from the purse', voice: 'v36-pass-not-valid', beep: 'warning' },
  'stop-unknown': { zh: '站点未定位，请联系司机', en: 'Stop not located, please ask the driver', voice: 'v37-stop-unknown', beep: 'error' },
  'tap-off-not-needed': { zh: '本线路下车无需刷卡', en: 'No tap-off needed on this route', voice: 'v38-no-tap-off', beep: 'warning' },
  'card-blacklisted': { zh: '此卡已挂失，请交给司机', en: 'Card reported lost, please hand it to the driver', voice: 'v39-blacklisted', beep: 'error' },
  'driver-signed-on': { zh: '签到完毕', en: 'Signed on', voice: 'v41-driver-signed-on', beep: 'ok' },
  'driver-tap-again-to-sign-off': { zh: '再刷一次签退', en: 'Tap the driver card again to sign off', voice: 'v42-driver-tap-again-to-sign-off', beep: 'warning' },
  'driver-signed-off': { zh: '签退完毕', en: 'Signed off', voice: 'v43-driver-signed-off', beep: 'ok' },
  'driver-sign-off-first': { zh: '请先签退', en: 'Another driver is signed on, sign off first', voice: 'v44-driver-sign-off-first', beep: 'error' },
  'driver-card-invalid': { zh: '司机卡无效', en: 'Invalid driver card', voice: 'v45-driver-card-invalid', beep: 'error' },
  'driver-sign-on-unavailable': { zh: '本机不支持刷卡签到', en: 'This reader does not take driver sign-on', voice: 'v46-driver-sign-on-unavailable', beep: 'error' },
  'driver-sign-on-required': { zh: '司机未签到，暂不能刷卡', en: 'No driver signed on, fares are not taken yet', voice: 'v47-driver-sign-on-required', beep: 'error' },
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
  'console.amount': { zh: '金额（元）', en: 'Amount (yuan)' },
  'console.time': { zh: '时间', en: 'Time' },
  'console.card': { zh: '卡号', en: 'Card' },
  'console.cardType': { zh: '卡类型', en: 'Card type' },
  'console.kind': { zh: '类型', en: 'Kind' },
  'console.rejected': { zh: '拒收记录', en: 'Rejected records' },
  'console.inDoubt': { zh: '灰记录', en: 'In-doubt records' },
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
  'kind.in-doubt': { zh: '灰记录', en: 'In doubt' },
  'kind.resolution': { zh: '补记', en: 'Resolution' },
  'console.summary': { zh: '概况', en: 'Overview' },
  'console.clearedAmount': { zh: '清分金额（元）', en: 'Cleared amount (yuan)' },
  'console.duplicates': { zh: '已忽略的重复记录', en: 'Duplicates ignored' },
  'console.sequence': { zh: '流水号', en: 'Sequence' },
  'console.reason': { zh: '原因', en: 'Reason' },
  'console.verification': { zh: '校验', en: 'Verification' },
  'console.vehicle': { zh: '车辆', en: 'Vehicle' },
  'console.live.connected': { zh: '已连接，自动更新', en: 'Connected, updating' },
  'console.live.disconnected': { zh: '连接中断，正在重连', en: 'Disconnected, reconnecting' },
  'verification.verified': { zh: 'TAC校验通过', en: 'TAC verified' },
  'verification.queued-for-issuer': { zh: '待发卡机构校验', en: 'Queued for the issuer' },
  'verification.not-applicable': { zh: '无需校验', en: 'Nothing to verify' },
  'alert.parameters-rejected': { zh: '参数更新无效，继续使用原参数', en: 'Parameter update rejected, the last good set stays active' },
  'alert.storage-full': { zh: '存储空间已满：暂停刷卡，请联网上传', en: 'Storage full: card taps are off until records upload' },
  'alert.storage-recovered': { zh: '交易数据库损坏，已重建：请报修', en: 'Transaction database was damaged and rebuilt: report it' },
  'readCard.waiting': { zh: '请将卡片放在读卡器上', en: 'Place a card on the reader' },
  'readCard.unsupported': { zh: '不支持此卡', en: 'Card not supported' },
  'readCard.cardType': { zh: '卡类型', en: 'Card type' },
  'readCard.medium': { zh: '介质', en: 'Medium' },
  'readCard.medium.card': { zh: '实体卡', en: 'Card' },
  'readCard.medium.phone': { zh: '手机', en: 'Phone' },
  'readCard.cardNumber': { zh: '卡号', en: 'Card number' },
  'readCard.issuer': { zh: '发卡机构', en: 'Issuer' },
  'readCard.validity': { zh: '有效期', en: 'Valid' },
  'readCard.validityRange': { zh: '{start} 至 {end}', en: '{start} to {end}' },
  'readCard.balance': { zh: '余额（元）', en: 'Balance (yuan)' },
  'readCard.purseLog': { zh: '交易明细', en: 'Purchase log' },
  'readCard.transitRecords': { zh: '乘车记录', en: 'Transit records' },
  'readCard.noRecords': { zh: '无记录', en: 'No records' },
  'readCard.column.serial': { zh: '交易序号', en: 'Serial' },
  'readCard.column.time': { zh: '时间', en: 'Time' },
  'readCard.column.type': { zh: '类型', en: 'Type' },
  'readCard.column.amount': { zh: '金额（元）', en: 'Amount (yuan)' },
  'readCard.column.terminal': { zh: '终端号', en: 'Terminal' },
  'readCard.column.balanceAfter': { zh: '交易后余额（元）', en: 'Balance after (yuan)' },
  'readCard.column.lineStation': { zh: '线路站点', en: 'Line and stop' },
  'readCard.transaction.load': { zh: '充值', en: 'Load' },
  'readCard.transaction.purchase': { zh: '消费', en: 'Purchase' },
  'readCard.transaction.compositePurchase': { zh: '复合消费', en: 'Composite purchase' },
  'readCard.transaction.other': { zh: '其他（{code}）', en: 'Other ({code})' },
  'readCard.transit.boarding': { zh: '上车', en: 'Boarding' },
  'readCard.transit.alighting': { zh: '下车', en: 'Alighting' },
  'readCard.transit.single': { zh: '单次', en: 'Single trip' },
  'listReaders.none': { zh: '未发现读卡器', en: 'No card readers found' },
  'listReaders.serviceDown': { zh: '读卡服务（pcscd）未运行', en: 'Card reader service (pcscd) is not running' },
  'listReaders.cardPresent': { zh: '有卡', en: 'card present' },
  'listReaders.empty': { zh: '无卡', en: 'empty' },
  'driver.title': { zh: '司机屏', en: 'Driver screen' },
  'driver.language': { zh: 'English', en: '中文' },
  'driver.signOn.prompt': { zh: '请刷司机卡或输入工号签到', en: 'Tap your staff card or enter your driver number to sign on' },
  'driver.signOn.driverNumber': { zh: '工号', en: 'Driver number' },
  'driver.signOn.submit': { zh: '签到', en: 'Sign on' },
  'driver.service.choose': { zh: '请确认线路和方向', en: 'Confirm the route and direction' },
  'driver.service.none': { zh: '参数中没有线路，请联系调度', en: 'No routes in the parameters, call the depot' },
  'driver.service.change': { zh: '更改线路', en: 'Change route' },
  'driver.driver': { zh: '司机', en: 'Driver' },
  'driver.shiftStart': { zh: '上班', en: 'Shift start' },
  'driver.shiftEnd': { zh: '下班', en: 'Shift end' },
  'driver.route': { zh: '{route}路', en: 'Route {route}' },
  'driver.direction.0': { zh: '上行', en: 'Outbound' },
  'driver.direction.1': { zh: '下行', en: 'Inbound' },
  'driver.currentStop': { zh: '当前站', en: 'Current stop' },
  'driver.nextStop': { zh: '下一站', en: 'Next stop' },
  'driver.stopUnknown': { zh: '未定位', en: 'Not located' },
  'driver.lastTap': { zh: '最近刷卡', en: 'Last tap' },
  'driver.noTap': { zh: '暂无刷卡', en: 'No taps yet' },
  'driver.fare': { zh: '扣款', en: 'Fare' },
  'driver.balance': { zh: '余额', en: 'Balance' },
  'driver.yuan': { zh: '{amount}元', en: '¥{amount}' },
  'driver.counters': { zh: '本班统计', en: 'This shift' },
  'driver.taps': { zh: '刷卡', en: 'Taps' },
  'driver.accepted': { zh: '成功', en: 'Accepted' },
  'driver.refused': { zh: '拒绝', en: 'Refused' },
  'driver.inDoubt': { zh: '未确认', en: 'In doubt' },
  'driver.amount': { zh: '金额', en: 'Amount' },
  'driver.link.online': { zh: '已联网', en: 'Online' },
  'driver.link.offline': { zh: '离线', en: 'Offline' },
  'driver.backlog': { zh: '待上传{count}笔', en: '{count} to upload' },
  'driver.parameters': { zh: '参数', en: 'Parameters' },
  'driver.signOff': { zh: '签退', en: 'Sign off' },
  'driver.signOff.confirm': { zh: '再按一次签退', en: 'Press again to sign off' },
  'driver.summary.title': { zh: '本班小结', en: 'Shift summary' },
  'driver.summary.sent': { zh: '班次记录已上传', en: 'Shift record sent' },
  'driver.summary.pending': { zh: '班次记录待上传，联网后自动上传', en: 'Shift record waiting, it is sent when online' },
  'driver.summary.newShift': { zh: '下一班签到', en: 'Sign on the next shift' },
  'driver.error.invalid-driver': { zh: '工号无效，只能包含字母和数字', en: 'Invalid driver number: use letters and digits only' },
  'driver.error.already-signed-on': { zh: '已有司机签到，请先签退', en: 'A driver is signed on: sign off first' },
  'driver.error.not-signed-on': { zh: '尚未签到', en: 'No driver is signed on' },
  'driver.error.unknown-service': { zh: '线路或方向不在参数中', en: 'Route or direction is not in the parameters' },
  'driver.error.request-failed': { zh: '操作失败，请重试', en: 'Request failed, try again' },
  'driver.disconnected': { zh: '与终端连接中断，正在重连', en: 'Lost contact with the terminal, reconnecting' },
  'rider.fare': { zh: '扣款 {amount} 元', en: 'Fare ¥{amount}' },
  'rider.balance': { zh: '余额 {amount} 元', en: 'Balance ¥{amount}' },
  'alert.reader-fault': { zh: '读卡器故障：请重启设备，如仍故障请报修', en: 'Card reader fault: restart the validator, report it if it persists' },
  'alert.psam-fault': { zh: 'PSAM卡故障：请让乘客投币，并报修', en: 'PSAM fault: take cash fares and report it' },
  'alert.reader-service-down': { zh: '读卡服务未运行：请重启设备', en: 'Reader service is down: restart the validator' },
  'alert.gps-lost': { zh: 'GPS信号丢失：站点可能不准', en: 'GPS signal lost: stops may be wrong' },
  'alert.storage-low': { zh: '存储空间不足：请尽快联网上传', en: 'Storage low: get online to upload soon' },
  'alert.parameters-outdated': { zh: '参数已过期：请联网更新', en: 'Parameters out of date: get online to update them' },
  'alert.parameters-missing': { zh: '没有票价参数：暂停刷卡，请让乘客投币', en: 'No fare table: card taps are off, take cash' },
  'alert.clock-wrong': { zh: '时钟不准：请联网校时', en: 'Clock is wrong: get online to set the time' },
  'alert.card-in-doubt': { zh: '交易未确认：请乘客再刷一次同一张卡', en: 'Tap not confirmed: ask the rider to tap the same card again' },
  'alert.link-offline': { zh: '网络离线：记录已保存，联网后自动上传', en: 'Offline: records are saved and upload when online' },
  'driver.routeLabel': { zh: '线路', en: 'Route' },
  'driver.shiftTime': { zh: '班次时间', en: 'Shift time' },
  'driver.error.invalid-request': { zh: '请求无效', en: 'Invalid request' },
  'export.settlementDay': { zh: "结算日", en: "Settlement day" },
  'export.businessDay': { zh: "交易业务日", en: "Business day of the tap" },
  'export.late': { zh: "补传", en: "Late" },
  'export.source': { zh: "来源", en: "Source" },
  'export.issuer': { zh: "发卡机构", en: "Card issuer" },
  'export.issuerGroup': { zh: "发卡机构类别", en: "Issuer group" },
  'export.driver': { zh: "司机", en: "Driver" },
  'export.listFare': { zh: "原价（元）", en: "Full fare (yuan)" },
  'export.amount': { zh: "实收（元）", en: "Amount charged (yuan)" },
  'export.discount': { zh: "优惠（元）", en: "Discount (yuan)" },
  'export.operator': { zh: "运营单位", en: "Bus operator" },
  'export.shift': { zh: "班次/司机", en: "Shift/driver" },
  'export.adjustmentKind': { zh: "调整类别", en: "Adjustment kind" },
  'export.state': { zh: "状态", en: "State" },
  'export.settledAt': { zh: "结算时间", en: "Settled at" },
  'export.settledBy': { zh: "结算人", en: "Settled by" },
  'export.lateCount': { zh: "补传笔数", en: "Late records" },
  'export.lateAmount': { zh: "补传金额（元）", en: "Late amount (yuan)" },
  'export.awaitingIssuerCount': { zh: "待异地确认笔数", en: "Records awaiting the issuer" },
  'export.awaitingIssuerAmount': { zh: "待异地确认金额（元）", en: "Amount awaiting the issuer (yuan)" },
  'export.partnerCity': { zh: "合作城市代码", en: "Partner city code" },
  'export.receivable': { zh: "应收（元）", en: "Receivable (yuan)" },
  'export.payable': { zh: "应付（元）", en: "Payable (yuan)" },
  'export.net': { zh: "净额（元）", en: "Net (yuan)" },
  'export.sheet.summary': { zh: "汇总", en: "Summary" },
  'export.sheet.partners': { zh: "异地城市往来", en: "Partner cities" },
  'export.sheet.issuerGroup': { zh: "按发卡机构类别", en: "By issuer group" },
  'export.sheet.issuer': { zh: "按发卡机构", en: "By issuer" },
  'export.sheet.operator': { zh: "按运营单位", en: "By operator" },
  'export.sheet.route': { zh: "按线路", en: "By route" },
  'export.sheet.vehicle': { zh: "按车辆", en: "By vehicle" },
  'export.sheet.terminal': { zh: "按终端", en: "By terminal" },
  'export.sheet.shift': { zh: "按班次", en: "By shift" },
  'export.sheet.cardType': { zh: "按卡类型", en: "By card type" },
  'export.sheet.adjustments': { zh: "客服调整", en: "Customer-service adjustments" },
  'export.sheet.items': { zh: "明细", en: "Items" },
  'ops.login.title': { zh: "操作员登录", en: "Operator login" },
  'ops.login.username': { zh: "用户名", en: "Username" },
  'ops.login.password': { zh: "密码", en: "Password" },
  'ops.login.submit': { zh: "登录", en: "Log in" },
  'ops.login.failed': { zh: "用户名或密码错误", en: "Wrong username or password" },
  'ops.login.expired': { zh: "登录已过期，请重新登录", en: "Your session has expired, log in again" },
  'ops.logout': { zh: "退出", en: "Log out" },
  'ops.signedInAs': { zh: "当前用户：{name}（{role}）", en: "Signed in as {name} ({role})" },
  'ops.nav.dashboard': { zh: "总览", en: "Dashboard" },
  'ops.nav.transactions': { zh: "交易查询", en: "Transactions" },
  'ops.nav.settlement': { zh: "清分结算", en: "Settlement" },
  'ops.nav.reconciliation': { zh: "对账", en: "Reconciliation" },
  'ops.nav.exceptions': { zh: "异常处理", en: "Exceptions" },
  'ops.nav.fleet': { zh: "车载终端", en: "Fleet" },
  'ops.nav.parameters': { zh: "参数", en: "Parameters" },
  'ops.nav.customerService': { zh: "客服", en: "Customer service" },
  'ops.nav.operators': { zh: "操作员", en: "Operators" },
  'ops.nav.audit': { zh: "审计日志", en: "Audit log" },
  'ops.dashboard.taps': { zh: "今日刷卡笔数", en: "Taps today" },
  'ops.dashboard.revenue': { zh: "今日收入（元）", en: "Revenue today (yuan)" },
  'ops.dashboard.hourly': { zh: "每小时刷卡笔数与收入", en: "Taps and revenue per hour" },
  'ops.dashboard.online': { zh: "在线终端", en: "Terminals online" },
  'ops.dashboard.backlog': { zh: "终端待上传记录", en: "Records waiting on terminals" },
  'ops.dashboard.exceptions': { zh: "待处理异常", en: "Open exceptions" },
  'ops.search.from': { zh: "开始时间", en: "From" },
  'ops.search.to': { zh: "结束时间", en: "To" },
  'ops.search.submit': { zh: "查询", en: "Search" },
  'ops.search.results': { zh: "共{count}条", en: "{count} records" },
  'ops.settlement.day': { zh: "业务日", en: "Business day" },
  'ops.settlement.settled': { zh: "已结算", en: "Settled" },
  'ops.settlement.preview': { zh: "未结算（预览）", en: "Not settled (preview)" },
  'ops.settlement.settle': { zh: "结算该日", en: "Settle this day" },
  'ops.settlement.open': { zh: "查看", en: "Open" },
  'ops.settlement.downloadCsv': { zh: "下载CSV", en: "Download CSV" },
  'ops.settlement.downloadXlsx': { zh: "下载Excel", en: "Download Excel" },
  'ops.settlement.totals': { zh: "合计", en: "Totals" },
  'ops.settlement.late': { zh: "补传记录（业务日结算后才上传）", en: "Late records (uploaded after their day was settled)" },
  'ops.settlement.awaitingIssuer': { zh: "待异地发卡机构确认", en: "Awaiting the out-of-town issuer" },
  'ops.settlement.forward': { zh: "导出异地转发文件", en: "Export forwarding files" },
  'ops.settlement.importAnswer': { zh: "导入异地确认文件", en: "Import an answer file" },
  'ops.reconcile.checked': { zh: "核对：{records}笔记录，{rejected}笔拒收，{terminals}台终端，{shifts}个班次，{cards}张卡", en: "Checked {records} records, {rejected} rejected, {terminals} terminals, {shifts} shifts, {cards} cards" },
  'ops.reconcile.none': { zh: "无差异", en: "No differences" },
  'ops.reconcile.finding': { zh: "差异", en: "Difference" },
  'ops.reconcile.action': { zh: "处理建议", en: "What to do" },
  'reconcile.kind.sequence-gap': { zh: "终端流水号缺失", en: "Terminal sequence numbers missing" },
  'reconcile.kind.redelivered-batch': { zh: "批次重复上传", en: "Batch delivered again" },
  'reconcile.kind.rejected-record': { zh: "记录被拒收", en: "Record rejected" },
  'reconcile.kind.shift-mismatch': { zh: "班次统计与记录不符", en: "Shift counters disagree with the records" },
  'reconcile.kind.in-doubt-open': { zh: "灰记录未处理", en: "In-doubt record open" },
  'reconcile.kind.card-counter-repeat': { zh: "卡交易序号重复", en: "Card counter repeated" },
  'reconcile.kind.card-counter-backwards': { zh: "卡交易序号倒退", en: "Card counter went backwards" },
  'reconcile.kind.card-counter-gap': { zh: "卡交易序号跳号", en: "Card counter gap" },
  'reconcile.action.sequence-gap': { zh: "向终端发送“立即上传”；若终端存储已更换，调查后核销", en: "Send the terminal an upload-now command; if its store was replaced, write the range off after investigation" },
  'reconcile.action.redelivered-batch': { zh: "无需处理：重复记录已忽略", en: "Nothing to do: the copies were ignored" },
  'reconcile.action.rejected-record': { zh: "在异常队列中处理：修正密钥或参数后重新处理，或核销", en: "Handle it in the exception queue: re-process after fixing keys or parameters, or write it off" },
  'reconcile.action.shift-mismatch': { zh: "与司机核对班次单，检查终端是否漏记或多记", en: "Check the driver's shift sheet and whether the terminal missed or added records" },
  'reconcile.action.in-doubt-open': { zh: "等待该卡下次刷卡时自动确认，或在异常队列中人工处理", en: "Wait for the card's next tap to prove it, or resolve it by hand in the exception queue" },
  'reconcile.action.card-counter-repeat': { zh: "同一笔扣款清分两次：核实后为乘客退款", en: "One debit cleared twice: check it and refund the rider" },
  'reconcile.action.card-counter-backwards': { zh: "疑似复制卡或终端时钟错误：核查并考虑将该卡列入黑名单", en: "Possible cloned card or wrong terminal clock: investigate and consider blacklisting the card" },
  'reconcile.action.card-counter-gap': { zh: "该卡在本系统外有交易或记录缺失：留意该卡后续记录", en: "The card was used outside this system or a record is missing: watch its next records" },
  'reconcile.detail.count': { zh: "笔数", en: "Count" },
  'reconcile.detail.batchId': { zh: "批次号", en: "Batch" },
  'reconcile.detail.duplicates': { zh: "重复记录", en: "Copies" },
  'reconcile.detail.stored': { zh: "新存记录", en: "Stored" },
  'reconcile.detail.rejectedId': { zh: "拒收编号", en: "Rejection" },
  'reconcile.detail.category': { zh: "类别", en: "Category" },
  'reconcile.detail.reason': { zh: "原因", en: "Reason" },
  'reconcile.detail.amountFen': { zh: "金额（元）", en: "Amount (yuan)" },
  'reconcile.detail.cardCounter': { zh: "卡交易序号", en: "Card counter" },
  'reconcile.detail.counter': { zh: "卡交易序号", en: "Card counter" },
  'reconcile.detail.field': { zh: "统计项", en: "Counter" },
  'reconcile.detail.terminal': { zh: "终端统计", en: "Terminal's count" },
  'reconcile.detail.records': { zh: "记录统计", en: "Count from records" },
  'reconcile.detail.previousTerminal': { zh: "上一笔的终端", en: "Previous terminal" },
  'reconcile.detail.previousSequence': { zh: "上一笔的流水号", en: "Previous sequence" },
  'reconcile.detail.previousCounter': { zh: "上一笔的卡交易序号", en: "Previous card counter" },
  'reconcile.detail.shiftId': { zh: "班次", en: "Shift" },
  'reconcile.field.accepted': { zh: "扣款笔数", en: "Debits" },
  'reconcile.field.inDoubt': { zh: "灰记录笔数", en: "In-doubt records" },
  'reconcile.field.amountFen': { zh: "金额", en: "Amount" },
  'reconcile.field.cardTypeAmount': { zh: "{cardType}金额", en: "{cardType} amount" },
  'ops.exceptions.rejected': { zh: "拒收记录", en: "Rejected records" },
  'ops.exceptions.inDoubt': { zh: "灰记录", en: "In-doubt records" },
  'ops.exceptions.category': { zh: "类别", en: "Category" },
  'ops.exceptions.reprocess': { zh: "重新处理", en: "Re-process" },
  'ops.exceptions.writeOff': { zh: "核销", en: "Write off" },
  'ops.exceptions.resolve': { zh: "处理", en: "Resolve" },
  'ops.exceptions.outcome': { zh: "结果", en: "Outcome" },
  'ops.exceptions.matched': { zh: "匹配的后续记录（终端#流水号）", en: "Matching later record (terminal#sequence)" },
  'ops.exceptions.counter': { zh: "卡交易序号", en: "Card counter" },
  'outcome.debited': { zh: "已扣款", en: "Debited" },
  'outcome.not-debited': { zh: "未扣款", en: "Not debited" },
  'category.schema': { zh: "格式错误", en: "Invalid format" },
  'category.tac': { zh: "TAC校验失败", en: "TAC check failed" },
  'category.mac': { zh: "MAC校验失败", en: "MAC check failed" },
  'category.unknown-issuer': { zh: "未知发卡机构或缺少密钥", en: "Unknown issuer or missing key" },
  'category.key-version': { zh: "密钥版本未知", en: "Unknown key version" },
  'category.blacklisted': { zh: "黑名单卡", en: "Blacklisted card" },
  'category.conflict': { zh: "流水号重复但内容不同", en: "Sequence stored with other content" },
  'category.resolution-link': { zh: "补记关联错误", en: "Resolution link invalid" },
  'category.other': { zh: "其他", en: "Other" },
  'ops.fleet.lastContact': { zh: "最后通信", en: "Last contact" },
  'ops.fleet.state': { zh: "状态", en: "State" },
  'ops.fleet.version': { zh: "软件版本", en: "Software version" },
  'ops.fleet.parameters': { zh: "参数版本", en: "Parameter versions" },
  'ops.fleet.faults': { zh: "故障", en: "Faults" },
  'ops.fleet.map': { zh: "线路图", en: "Route map" },
  'ops.fleet.backlog': { zh: "待上传", en: "Backlog" },
  'state.online': { zh: "在线", en: "Online" },
  'state.offline': { zh: "离线", en: "Offline" },
  'ops.parameters.active': { zh: "生效中", en: "Active" },
  'ops.parameters.pending': { zh: "待生效", en: "Pending" },
  'ops.parameters.behind': { zh: '参数落后', en: 'Behind' },
  'ops.parameters.behind.yes': { zh: '落后', en: 'Behind' },
  'ops.parameters.behind.no': { zh: '最新', en: 'Up to date' },
  'ops.parameters.behind.unknown': { zh: '未知', en: 'Unknown' },
  'ops.operators.displayName': { zh: "姓名", en: "Name" },
  'ops.operators.role': { zh: "角色", en: "Role" },
  'ops.operators.create': { zh: "新建操作员", en: "Add operator" },
  'ops.operators.enabled': { zh: '已启用', en: 'Enabled' },
  'ops.operators.disabled': { zh: '已停用', en: 'Disabled' },
  'ops.operators.disable': { zh: '停用', en: 'Disable' },
  'role.viewer': { zh: "查看员", en: "Viewer" },
  'role.operator': { zh: "操作员", en: "Operator" },
  'role.administrator': { zh: "管理员", en: "Administrator" },
  'ops.audit.action': { zh: "操作", en: "Action" },
  'ops.audit.target': { zh: "对象", en: "Target" },
  'ops.audit.details': { zh: "详情", en: "Details" },
  'ops.cs.refund': { zh: "退款", en: "Refund" },
  'ops.cs.adjustment': { zh: "调账", en: "Adjustment" },
  'ops.cs.transfer': { zh: "挂失卡余额转移", en: "Lost-card balance transfer" },
  'ops.cs.replacement': { zh: "新卡卡号", en: "Replacement card" },
  'ops.cs.approve': { zh: "批准", en: "Approve" },
  'ops.cs.decline': { zh: "拒绝", en: "Decline" },
  'ops.cs.requestedBy': { zh: "申请人", en: "Requested by" },
  'ops.cs.decidedBy': { zh: "审批人", en: "Decided by" },
  'ops.cs.submit': { zh: "提交", en: "Submit" },
  'ops.done': { zh: "操作成功", en: "Done" },
  'ops.forbidden': { zh: "权限不足", en: "Not allowed for your role" },
  'ops.error': { zh: "操作失败：{message}", en: "Failed: {message}" },
  'rider.stop.title': { zh: '{name} 公交站', en: '{name} bus stop' },
  'rider.stop.arrivals': { zh: '即将到站', en: 'Next buses' },
  'rider.stop.routes': { zh: '途经线路', en: 'Routes serving this stop' },
  'rider.stop.route': { zh: '线路', en: 'Route' },
  'rider.stop.towards': { zh: '开往', en: 'Towards' },
  'rider.stop.eta': { zh: '预计到站', en: 'Expected' },
  'rider.stop.minutes': { zh: '{minutes} 分钟', en: '{minutes} min' },
  'rider.stop.arriving': { zh: '即将进站', en: 'Arriving' },
  'rider.stop.vehicle': { zh: '车辆', en: 'Bus' },
  'rider.stop.none': { zh: '未来一小时内暂无车辆', en: 'No buses expected in the next hour' },
  'rider.stop.updated': { zh: '更新于 {time}', en: 'Updated at {time}' },
  'rider.stop.otherLanguage': { zh: 'English', en: '中文' },
  'rider.stop.notFound': { zh: '未找到站点 {id}', en: 'Stop {id} not found' },
  'rider.stop.unavailable': { zh: '实时到站信息暂不可用', en: 'Live arrival times are not available' },
  'ops.login.locked': { zh: '登录失败次数过多，请 {minutes} 分钟后再试', en: 'Too many failed logins: try again in {minutes} minutes' },
  'ops.request.crossSite': { zh: '已拒绝来自其他网站的请求', en: 'Request from another site rejected' },
  'issuerGroup.local': { zh: "本市发卡", en: "City cards" },
  'issuerGroup.outOfTown': { zh: "异地发卡（{city}）", en: "Out of town ({city})" },
  'ops.params.blacklist.title': { zh: '变更黑名单', en: 'Change the blacklist' },
  'ops.params.blacklist.entries': { zh: '卡号（每行一个）', en: 'Card numbers (one per line)' },
  'ops.params.blacklist.change': { zh: '操作', en: 'Change' },
  'ops.params.blacklist.add': { zh: '加入黑名单', en: 'Add to the blacklist' },
  'ops.params.blacklist.remove': { zh: '移出黑名单', en: 'Remove from the blacklist' },
  'ops.params.fareTable.title': { zh: '发布新票价表', en: 'Publish a new fare table' },
  'ops.params.fareTable.body': { zh: '票价表（JSON）', en: 'Fare table (JSON)' },
  'ops.params.effectiveFrom': { zh: '生效时间（留空则立即生效）', en: 'Effective from (blank: now)' },
  'ops.params.publish': { zh: '签名并发布', en: 'Sign and publish' },
  'ops.params.published': { zh: '{kind}版本 {version} 已签名，等待发布到终端', en: '{kind} version {version} signed and queued for publishing to terminals' },
  'ops.params.rejected': { zh: '未发布，请修正以下问题：', en: 'Not published. Fix these problems:' },
  'ops.params.unavailable': { zh: '未配置参数签名密钥，无法在控制台创建参数', en: 'No parameter signing key is configured, so the console cannot create parameter sets' },
  'alert.record-quarantined': { zh: '有交易记录损坏，已隔离保存：请报修', en: 'A stored record was damaged and set aside: report it' },
  'ops.audit.operator': { zh: '操作员', en: 'Operator' },
  'ops.error.detail': { zh: '操作失败：{message}（{detail}）', en: 'Failed: {message} ({detail})' },
  'ops.error.storageFull': { zh: '清分数据库所在的磁盘已满，本次操作未完成：请释放磁盘空间后重试', en: 'The disk of the clearing database is full, so the action did not finish: free disk space and try again' },
  'ops.input.cardNumber': { zh: '卡号“{value}”无效：请输入 8 至 20 位数字或十六进制字符，例如页面上显示的完整卡号', en: 'Invalid card number "{value}": enter 8 to 20 digits or hex digits, such as the full card number the pages show' },
  'ops.input.amount': { zh: '金额“{value}”无效：请以元为单位，最多两位小数，例如 2.50', en: 'Invalid amount "{value}": enter yuan with up to two decimals, for example 2.50' },
  'ops.input.matchedRecord': { zh: '匹配记录“{value}”无效：请写成 终端#流水号，例如 T001#42', en: 'Invalid matching record "{value}": write it as terminal#sequence, for example T001#42' },
  'ops.input.day': { zh: '日期无效：请写成 年-月-日，例如 2025-05-06', en: 'Invalid day: write it as year-month-day, for example 2025-05-06' },
  'ops.input.search': { zh: '查询条件无效', en: 'Invalid search' },
  'ops.input.noForwarding': { zh: '没有等待合作城市 {partner} 核实的记录', en: 'No records of partner {partner} await verification' },
  'ops.input.blacklistEntry': { zh: '第 {line} 行的卡号“{value}”无效：请输入页面上显示的完整卡号（20 位数字），或其右侧 8 字节（16 位十六进制）', en: 'Line {line}: invalid card number "{value}": enter the full card number the pages show (20 digits) or its right-most 8 bytes (16 hex digits)' },
  'ops.input.blacklistInvalid': { zh: '黑名单变更无效：{detail}', en: 'Invalid blacklist change: {detail}' },
  'ops.input.fareTableJson': { zh: '票价表不是有效的 JSON：{detail}', en: 'The fare table is not valid JSON: {detail}' },
  'ops.input.fareTableInvalid': { zh: '票价表内容无效：{detail}', en: 'Invalid fare table: {detail}' },
  'ops.params.blacklist.hint': { zh: '每行一个卡号，不区分大小写。可直接粘贴交易查询或异常处理页面上的完整卡号（20 位数字），也可输入卡号右侧 8 字节（16 位十六进制）；系统按卡号右侧 8 字节登记黑名单。', en: 'One card number per line, upper or lower case. Paste the full card number from the Transactions or Exceptions page (20 digits), or enter its right-most 8 bytes (16 hex digits). The blacklist stores the right-most 8 bytes.' },
  'paramKind.fare-table': { zh: '票价表', en: 'Fare table' },
  'paramKind.blacklist': { zh: '黑名单', en: 'Blacklist' },
  'paramKind.routes': { zh: '线路', en: 'Routes' },
  'paramKind.issuers': { zh: '发卡机构', en: 'Card issuers' },
  'audit.action.operator.create': { zh: '新建操作员', en: 'Add operator' },
  'audit.action.operator.update': { zh: '修改操作员', en: 'Change operator' },
  'audit.action.operator.login': { zh: '登录', en: 'Log in' },
  'audit.action.operator.login-failed': { zh: '登录失败', en: 'Failed login' },
  'audit.action.operator.logout': { zh: '退出登录', en: 'Log out' },
  'audit.action.settlement.settle': { zh: '日终结算', en: 'Settle day' },
  'audit.action.forwarding.export': { zh: '导出异地转发文件', en: 'Export forwarding file' },
  'audit.action.forwarding.import-answer': { zh: '导入异地核实结果', en: 'Import partner answers' },
  'audit.action.exception.reprocess': { zh: '重新处理', en: 'Re-process' },
  'audit.action.exception.write-off': { zh: '核销', en: 'Write off' },
  'audit.action.exception.resolve-in-doubt': { zh: '处理灰记录', en: 'Resolve in-doubt record' },
  'audit.action.customer-service.request-refund': { zh: '申请退款', en: 'Request refund' },
  'audit.action.customer-service.request-adjustment': { zh: '申请调账', en: 'Request adjustment' },
  'audit.action.customer-service.request-balance-transfer': { zh: '申请挂失卡余额转移', en: 'Request lost-card balance transfer' },
  'audit.action.customer-service.approve': { zh: '批准客服申请', en: 'Approve request' },
  'audit.action.customer-service.decline': { zh: '拒绝客服申请', en: 'Decline request' },
  'audit.action.parameters.blacklist': { zh: '变更黑名单', en: 'Change blacklist' },
  'audit.action.parameters.fare-table': { zh: '发布票价表', en: 'Publish fare table' },
  'audit.detail.role': { zh: '角色', en: 'Role' },
  'audit.detail.displayName': { zh: '姓名', en: 'Name' },
  'audit.detail.disabled': { zh: '停用', en: 'Disabled' },
  'audit.detail.passwordChanged': { zh: '修改密码', en: 'Password changed' },
  'audit.detail.count': { zh: '笔数', en: 'Count' },
  'audit.detail.amountFen': { zh: '金额（元）', en: 'Amount (yuan)' },
  'audit.detail.late': { zh: '迟到笔数', en: 'Late records' },
  'audit.detail.outcome': { zh: '结果', en: 'Outcome' },
  'audit.detail.terminalId': { zh: '终端', en: 'Terminal' },
  'audit.detail.sequence': { zh: '流水号', en: 'Sequence' },
  'audit.detail.reason': { zh: '原因', en: 'Reason' },
  'audit.detail.matched': { zh: '匹配记录', en: 'Matching record' },
  'audit.detail.kind': { zh: '类型', en: 'Kind' },
  'audit.detail.asn': { zh: '卡号', en: 'Card' },
  'audit.detail.targetAsn': { zh: '新卡卡号', en: 'Replacement card' },
  'audit.detail.partnerCity': { zh: '合作城市', en: 'Partner city' },
  'audit.detail.confirmed': { zh: '已确认', en: 'Confirmed' },
  'audit.detail.refused': { zh: '被拒绝', en: 'Refused' },
  'audit.detail.effectiveFrom': { zh: '生效时间', en: 'Effective from' },
  'audit.detail.bodySha256': { zh: '内容 SHA-256', en: 'Body SHA-256' },
  'audit.detail.added': { zh: '加入', en: 'Added' },
  'audit.detail.removed': { zh: '移出', en: 'Removed' },
  'ops.value.yes': { zh: '是', en: 'Yes' },
  'ops.value.no': { zh: '否', en: 'No' },
  'web.notFound.title': { zh: '页面不存在', en: 'Page not found' },
  'web.notFound.text': { zh: '您访问的地址不存在，请检查地址是否正确。', en: 'No page exists at this address. Check the address and try again.' },
  'web.notFound.home': { zh: '返回清分中心首页', en: 'Back to the clearing centre home page' },
  'web.notFound.opsHome': { zh: '返回运营控制台', en: "Back to the operators' console" },
  'web.notFound.route': { zh: '未找到路由：{method} {path}', en: 'Not found: no route for {method} {path}' },
  'ops.input.noSigningKey': {
    zh: '未配置参数签名密钥：请用 "busfare-backoffice params keygen" 生成，并在配置中设置 parameterSigningKey',
    en: 'no parameter signing key is configured; create one with "busfare-backoffice params keygen" and set parameterSigningKey in the config',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type UiTextId = keyof typeof UI_TEXT;

export function riderPrompt(id: RiderPromptId, language: Language = DEFAULT_LANGUAGE): string {
  return RIDER_PROMPTS[id][language];
}

export function uiText(id: UiTextId, language: Language = DEFAULT_LANGUAGE, params: Record<string, string | number> = {}): string {
  return fillPlaceholders(UI_TEXT[id][language], params);
}

/**
 * Joins a label and its value with the language's colon: full-width in Chinese, "label: value" in
 * English. An empty value gives the label and its colon, as a heading.
 */
export function labelled(language: Language, label: string, value: string | number): string {
  if (language === 'zh') return `${label}：${value}`;
  return value === '' ? `${label}:` : `${label}: ${value}`;
}

/** Formats fen as yuan with two decimals ("2.00"). */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The config fields in the English `busfare-terminal run --help`. */
const TERMINAL_RUN_CONFIG_FIELDS = `                  parameterPublicKeyFile,
                  reader {kind: "socket", path} | {kind: "pcsc", readerName, psamReaderName}
                      | {kind: "serial", path, baudRate, psamReaderName},
                  gps {kind: "serial", path, baudRate, rescanPattern} | {kind: "gpsd", host, port}
                      | {kind: "nmea-file", path, speed, loop},
                  service, driverCards {typeCodes, driverNumberDigits},
                  driverScreen {enabled (default true), port (default 8091, 0 = any free port;
                      always on 127.0.0.1), shiftDb (default DATADIR/TERMINALID-shifts.db),
                      signOffTapWindowSeconds (3-600, default 15),
                      riderTapsWithoutShift "accept" (default) | "reject"},
                  uplink, storage, clockOffsetMs, utcOffsetMinutes,
                  alerts {clockMaxOffsetSeconds (5-3600, default 30), clockConsecutiveFixes
                      (1-120, default 5), parameterGraceMinutes (0-10080, default 60),
                      parameterMaxOfflineHours (1-720, default 24)}`;

/** The config fields in the Chinese `busfare-terminal run --help`: the same field names, defaults and ranges. */
const TERMINAL_RUN_CONFIG_FIELDS_ZH = `                  parameterPublicKeyFile,
                  reader {kind: "socket", path} | {kind: "pcsc", readerName, psamReaderName}
                      | {kind: "serial", path, baudRate, psamReaderName},
                  gps {kind: "serial", path, baudRate, rescanPattern} | {kind: "gpsd", host, port}
                      | {kind: "nmea-file", path, speed, loop},
                  service, driverCards {typeCodes, driverNumberDigits},
                  driverScreen {enabled（默认 true）, port（默认 8091，0 表示任选空闲端口；
                      始终只监听 127.0.0.1）, shiftDb（默认 DATADIR/TERMINALID-shifts.db）,
                      signOffTapWindowSeconds（3-600，默认 15）,
                      riderTapsWithoutShift "accept"（默认）| "reject"},
                  uplink, storage, clockOffsetMs, utcOffsetMinutes,
                  alerts {clockMaxOffsetSeconds（5-3600，默认 30）, clockConsecutiveFixes
                      （1-120，默认 5）, parameterGraceMinutes（0-10080，默认 60）,
                      parameterMaxOfflineHours（1-720，默认 24）}`;

/**
 * Help and usage texts of the operator-facing command lines (busfare-backoffice and
 * busfare-terminal). Command names, flags, file names, field names and exit codes are the same in
 * both languages. Only the prose is translated.
 */
export const CLI_HELP = {
  'backoffice.main': {
    zh: `用法：busfare-backoffice <command> [options]

busfare 清分中心后台。

命令：
  serve          运行 MQTT 服务器、数据接入和运营控制台，直到收到 SIGINT 或 SIGTERM
  arrivals-eval  用实际到站记录评估到站预测（结果以 JSON 行输出到 stdout）
  params         参数集：编写、签名并发布，试算票价表，列出参数版本落后的终端
  terminals      登记、列出和注销终端的 MQTT 凭据

选项：
  --lang zh|en   帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help     显示本帮助；"busfare-backoffice <command> --help" 显示各命令的选项
`,
    en: `Usage: busfare-backoffice <command> [options]

The busfare clearing back office.

Commands:
  serve          Run the broker, ingest and the operator console until SIGINT or SIGTERM
  arrivals-eval  Score arrival predictions against recorded arrivals (JSON lines on stdout)
  params         Parameter sets: author, sign and publish them, dry-run a fare table, show lagging terminals
  terminals      Register, list and remove terminals' MQTT credentials

Options:
  --lang zh|en   Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help     Show this help; "busfare-backoffice <command> --help" shows a command's options
`,
  },
  'backoffice.serve': {
    zh: `用法：busfare-backoffice serve [options]

运行内置 MQTT 服务器（或连接外部 MQTT 服务器），把终端上传的交易、位置和状态写入
SQLite，并提供运营控制台。控制台地址输出到 stderr。命令行选项优先于配置文件；源码中的
backoffice/examples/backoffice.json 是配置示例。打开任何文件之前，先检查配置中列出的每个文件和目录。

选项：
  --config FILE      JSON 配置文件，字段见下
  --db FILE          SQLite 数据库文件（默认 busfare-backoffice.db）
  --mqtt-port N      内置 MQTT 服务器在 127.0.0.1 上的 TCP 端口（默认 1883；0 表示任选空闲端口）
  --http-port N      运营控制台在 127.0.0.1 上的 TCP 端口（默认 8080；0 表示任选空闲端口）
  --port 0           MQTT 服务器和控制台都任选空闲端口（同 --mqtt-port 0 --http-port 0）
  --broker-url URL   改用此外部 MQTT 服务器（mqtt://host:port），不启动内置服务器
  --keys FILE        发卡机构 TAC 主密钥的 JSON 文件（权限须为 chmod 600）
  --lang zh|en       帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help         显示本帮助

配置字段（均可省略）：
  db                     SQLite 数据库文件；所在目录必须存在且可写
  mqtt {port, host, externalUrl, terminalCredentials, serviceUsername, servicePassword,
      tls {cert, key, ca}, limits {maxPayloadBytes, messagesPerSecond, burstMessages}}
                         内置或外部 MQTT 服务器；未配置 tls 时只监听本机回环地址
  http {port, host, tls {cert, key, ca}}
                         运营控制台；未配置 tls 时只监听本机回环地址
  security {evidenceChecks（默认 true）, allowTestKeys（默认 false）}
                         重放和 PSAM 绑定检查；测试用发卡机构密钥仅限台架测试
  keys                   发卡机构 TAC 主密钥的 JSON 文件（权限 0600）
  pkcs11 {library, tokenLabel, pinVariable（默认 BUSFARE_HSM_PIN）}
                         发卡机构密钥存放在 HSM 中，代替 keys
  parameterSigningKey    由 "params keygen" 生成的 Ed25519 私钥（PEM，权限 0600）
  localIssuerPrefixes    本市发卡机构的发卡机构标识前缀（2-16 位十六进制）
  businessDayCutoff      业务日的起始时刻，当地时间 HH:MM（默认 00:00）
  timezoneOffsetMinutes  当地时间相对 UTC 的偏移，单位为分钟（默认 480，即北京时间）
  arrivals {gtfs, refreshSeconds（1-30，默认 10）, historyDays（0-366，默认 0）}
                         用于到站预测的线路 GTFS 目录（不配置则关闭到站预测）；预测模型
                         从前 historyDays 个运营日识别出的行程中学习（0 则只用时刻表），
                         行程保存在数据库旁的文件中（clearing.db 对应
                         clearing-detected-trips.sqlite）

退出码：正常停止为 0，运行时故障为 1，选项、配置或文件无效为 2。
`,
    en: `Usage: busfare-backoffice serve [options]

Runs the embedded MQTT broker (or connects to an external one), ingests terminal transactions,
positions and status into SQLite, and serves the operator console. Prints the console URL on
stderr. Options override the config file; an example config is backoffice/examples/backoffice.json
in the source tree. Every file and folder the config names is checked before anything is opened.

Options:
  --config FILE      JSON config file with the fields below
  --db FILE          SQLite database file (default busfare-backoffice.db)
  --mqtt-port N      TCP port of the embedded broker on 127.0.0.1 (default 1883; 0 = any free port)
  --http-port N      TCP port of the operator console on 127.0.0.1 (default 8080; 0 = any free port)
  --port 0           Free ports for both the broker and the console (--mqtt-port 0 --http-port 0)
  --broker-url URL   Use this external broker (mqtt://host:port) in place of the embedded one
  --keys FILE        JSON file of issuer TAC master keys (keep it chmod 600)
  --lang zh|en       Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help         Show this help

Config fields (all optional):
  db                     SQLite database file; its folder must exist and be writable
  mqtt {port, host, externalUrl, terminalCredentials, serviceUsername, servicePassword,
      tls {cert, key, ca}, limits {maxPayloadBytes, messagesPerSecond, burstMessages}}
                         Embedded broker, or an external one; without tls on loopback only
  http {port, host, tls {cert, key, ca}}
                         Operator console; without tls on loopback only
  security {evidenceChecks (default true), allowTestKeys (default false)}
                         Replay and PSAM-binding checks; test issuer keys for benches only
  keys                   JSON file of issuer TAC master keys (mode 0600)
  pkcs11 {library, tokenLabel, pinVariable (default BUSFARE_HSM_PIN)}
                         Issuer keys in an HSM, in place of keys
  parameterSigningKey    Ed25519 private key (PEM, mode 0600) from "params keygen"
  localIssuerPrefixes    Issuer-id prefixes (2-16 hex digits) of the city's own card issuers
  businessDayCutoff      Local time HH:MM at which a business day begins (default 00:00)
  timezoneOffsetMinutes  Local offset from UTC in minutes (default 480, China Standard Time)
  arrivals {gtfs, refreshSeconds (1-30, default 10), historyDays (0-366, default 0)}
                         GTFS folder of the routes for arrival predictions (off without it);
                         the model learns from the trips detected on the historyDays service
                         dates before (0: the timetable only), kept in a file beside the
                         database (clearing.db: clearing-detected-trips.sqlite)

Exit codes: 0 after a clean stop, 1 on a runtime failure, 2 on invalid options, config or files.
`,
  },
  'backoffice.terminals': {
    zh: `用法：busfare-backoffice terminals <add ID | list | remove ID> [options]

管理内置 MQTT 服务器校验的每台终端的 MQTT 凭据。

  add ID      登记终端 ID，并在 stdout 上输出其新密钥（只输出这一次）：把它填入终端配置的
              "password"；后台只保存加盐的 scrypt 哈希
  list        列出已登记的终端编号及登记时间
  remove ID   注销终端 ID 的凭据，此后该终端无法再连接

选项：
  --config FILE   JSON 配置文件，其中 "db" 指定清分数据库
  --db FILE       清分数据库文件（默认 busfare-backoffice.db）；add 会在缺少时创建，
                  list 和 remove 要求数据库已存在
  --replace       与 add 一起使用：为已登记的终端签发新密钥
  --lang zh|en    帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help      显示本帮助

退出码：完成为 0；remove 未登记的终端或其他故障为 1；选项、终端编号或数据库无效，
或未加 --replace 就 add 已登记的终端，为 2。
`,
    en: `Usage: busfare-backoffice terminals <add ID | list | remove ID> [options]

Manages the per-terminal MQTT credentials that the embedded broker checks.

  add ID      Register terminal ID and print its new secret on stdout, once: put it in the
              terminal's config ("password"); only a salted scrypt hash is kept
  list        Print the registered terminal ids and their registration times
  remove ID   Revoke terminal ID's credentials; it can no longer connect

Options:
  --config FILE   JSON config file whose "db" names the clearing database
  --db FILE       Clearing database file (default busfare-backoffice.db); add creates it,
                  list and remove need an existing one
  --replace       With add: issue a new secret for an already registered terminal
  --lang zh|en    Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help      Show this help

Exit codes: 0 done, 1 remove of an unregistered terminal or another failure, 2 invalid options,
terminal id or database, or add of a registered terminal without --replace.
`,
  },
  'backoffice.params': {
    zh: `用法：busfare-backoffice params <command> [options]

参数集：票价表、黑名单、线路数据和发卡机构。

命令：
  dry-run    票价表生效前，用样例刷卡记录试算票价
  publish    检查、签名并保存任意类型的参数集，由后台发布
  blacklist  把卡加入黑名单或移出黑名单（add|remove ASN...）
  status     列出参数版本落后于已发布版本的终端
  keygen     生成用于签名参数集的 Ed25519 密钥对

选项：
  --lang zh|en   帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help     显示本帮助

运行 "busfare-backoffice params <command> --help" 查看各命令的选项。
`,
    en: `Usage: busfare-backoffice params <command> [options]

Parameter sets: fare tables, blacklists, route data and issuers.

Commands:
  dry-run    Price sample taps with a fare table before it goes live
  publish    Check, sign and store a set of any kind for the back office to publish
  blacklist  Add cards to or remove cards from the blacklist (add|remove ASN...)
  status     Show which terminals are behind the published parameter versions
  keygen     Generate the Ed25519 key pair that signs parameter sets

Options:
  --lang zh|en   Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help     Show this help

Run "busfare-backoffice params <command> --help" for the options of a command.
`,
  },
  'backoffice.params.dryRun': {
    zh: `用法：busfare-backoffice params dry-run --table FILE --taps FILE.csv
      [--routes PATH | --db FILE | --config FILE]

按顺序处理 FILE.csv 中的刷卡记录，计价方式与终端完全相同，并在 stdout 上输出同样的 CSV，
末尾追加 fareFen、balanceAfterFen、promptId 和 reason 列。发现的问题输出到 stderr。

选项：
  --table FILE    票价表 JSON：票价表本体，或 kind 为 "fare-table" 的参数集
  --taps FILE     CSV 文件，表头为 time,vehicle,cardNumber,cardType,balanceFen,route,
                  direction,stop,tapKind（time：带时区偏移的 ISO 8601 时间；balanceFen：单位为分，
                  留空则沿用该卡上一条记录的余额；tapKind：on、off 或 single）
  --routes PATH   上下车分段计价线路的线路数据：GTFS 目录，或包含 routes 参数集（或其本体）的
                  JSON 文件。不指定时使用清分数据库中当前生效的线路参数集；默认数据库文件
                  不存在或其中没有生效的线路参数集时，只使用票价表内的站点列表。
  --config FILE   后台 JSON 配置文件（db），不给出 --routes 时从中取清分数据库
  --db FILE       清分数据库，代替配置中的 db（默认 busfare-backoffice.db）；指定的文件必须存在
  --lang zh|en    帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help      显示本帮助

退出码：试算完成为 0，故障为 1，选项、票价表、刷卡记录或线路数据无效为 2。
`,
    en: `Usage: busfare-backoffice params dry-run --table FILE --taps FILE.csv
       [--routes PATH | --db FILE | --config FILE]

Applies the taps in FILE.csv in order, exactly as terminals would, and prints the same CSV on
stdout with fareFen, balanceAfterFen, promptId and reason appended. Problems go to stderr.

Options:
  --table FILE    Fare table JSON: the table body, or a parameter set of kind "fare-table"
  --taps FILE     CSV with the header time,vehicle,cardNumber,cardType,balanceFen,route,
                  direction,stop,tapKind (time: ISO 8601 with offset; balanceFen: fen, empty
                  to carry the card's previous balance; tapKind: on, off or single)
  --routes PATH   Route data for tap-on/tap-off routes: a GTFS folder, or a JSON file with a
                  routes parameter set or body. Without it, the routes parameter set in effect
                  in the clearing database is used; where the default database file does not
                  exist or contains no routes set in effect, only stop lists inside the fare table.
  --config FILE   Back-office JSON config (db), for the clearing database without --routes
  --db FILE       Clearing database, in place of the config's db (default
                  busfare-backoffice.db); a database named here must exist
  --lang zh|en    Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help      Show this help

Exit codes: 0 priced, 1 failure, 2 invalid options, table, taps or route data.
`,
  },
  'backoffice.params.keygen': {
    zh: `用法：busfare-backoffice params keygen --private FILE --public FILE

生成用于签名参数集的 Ed25519 密钥对。私钥写入 --private，权限 0600；在后台配置中把它设为
parameterSigningKey。公钥写入 --public；把它部署到每台终端，终端只接受用此密钥签名的参数集。
已存在的文件不会被覆盖。在 stdout 上输出 {"keyId": ...}。

选项：
  --private FILE   私钥的写入位置（PKCS #8 PEM）
  --public FILE    公钥的写入位置（SPKI PEM）
  --lang zh|en     帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help       显示本帮助

退出码：写入成功为 0，故障为 1，选项无效或文件已存在为 2。
`,
    en: `Usage: busfare-backoffice params keygen --private FILE --public FILE

Generates the Ed25519 key pair that signs parameter sets. The private key goes to --private with
mode 0600; set it as parameterSigningKey in the back-office config. The public key goes to
--public; provision it on every terminal, which then accepts only sets signed by this key.
Existing files are never overwritten. Prints {"keyId": ...} on stdout.

Options:
  --private FILE   Where to write the private key (PKCS #8 PEM)
  --public FILE    Where to write the public key (SPKI PEM)
  --lang zh|en     Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help       Show this help

Exit codes: 0 written, 1 failure, 2 invalid options or a file already exists.
`,
  },
  'backoffice.params.publish': {
    zh: `用法：busfare-backoffice params publish --kind KIND --file FILE --version N [--effective-from TIME]

按终端的规则检查参数集，签名后存入清分数据库；运行中的后台在 2 秒的轮询周期内（或下次启动时）
以 MQTT 保留消息发布它。在 stdout 上以一行 JSON 输出已保存参数集的 kind、version、effectiveFrom、
bodySha256 和 keyId；发现的每个问题输出到 stderr。

选项：
  --kind KIND            fare-table、blacklist、routes 或 issuers
  --file FILE            参数集本体的 JSON，或完整参数集（取其 body）；黑名单也可以是
                         每行一个 ASN（16 位十六进制）的文本文件
  --version N            版本号，须大于该类型已保存的所有版本
  --effective-from TIME  终端切换到此版本的时间，带时区偏移的 ISO 8601 格式（默认立即）
{storeOptions}
  --lang zh|en           帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help             显示本帮助

退出码：保存成功为 0，故障为 1，选项、文件或参数集无效为 2。
`,
    en: `Usage: busfare-backoffice params publish --kind KIND --file FILE --version N [--effective-from TIME]

Checks a parameter set as terminals will, signs it and stores it in the clearing database; the
running back office publishes it (retained) within its poll interval of 2 s, or at its next
start. Prints the stored set's kind, version, effectiveFrom, bodySha256 and keyId as one JSON
line on stdout; every problem found goes to stderr.

Options:
  --kind KIND            fare-table, blacklist, routes or issuers
  --file FILE            JSON body of the set, or a whole set whose body is taken; for a
                         blacklist also a text file with one ASN (16 hex digits) per line
  --version N            Version number, above every stored version of the kind
  --effective-from TIME  ISO 8601 time with offset when terminals switch to it (default now)
{storeOptions}
  --lang zh|en           Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help             Show this help

Exit codes: 0 stored, 1 failure, 2 invalid options, file or set.
`,
  },
  'backoffice.params.blacklist': {
    zh: `用法：busfare-backoffice params blacklist add|remove ASN... [--effective-from TIME]

把卡加入或移出黑名单，生成一个新的签名版本：通常是基于最新全量名单的增量名单；自上一份全量
名单以来的变更超过 50,000 条时，生成新的全量名单。尚无名单时，第一次变更生成全量名单。ASN 取
卡片应用序列号最右边的 8 个字节，写作 16 位十六进制。在 stdout 上以一行 JSON 输出已保存的参数集。

选项：
  --effective-from TIME  终端切换到此版本的时间，带时区偏移的 ISO 8601 格式（默认立即）
{storeOptions}
  --lang zh|en           帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help             显示本帮助

退出码：保存成功为 0，故障为 1，选项或 ASN 无效为 2。
`,
    en: `Usage: busfare-backoffice params blacklist add|remove ASN... [--effective-from TIME]

Adds cards to or removes cards from the blacklist as one new signed version: a delta on top of
the newest full list, or a new full list once the changes since it exceed 50,000 entries. The
first change when no list exists yet makes a full list. An ASN is the right-most 8 bytes of the
card's application serial number as 16 hex digits. Prints the stored set as one JSON line.

Options:
  --effective-from TIME  ISO 8601 time with offset when terminals switch to it (default now)
{storeOptions}
  --lang zh|en           Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help             Show this help

Exit codes: 0 stored, 1 failure, 2 invalid options or ASNs.
`,
  },
  'backoffice.params.storeOptions': {
    zh: `  --config FILE          后台 JSON 配置（db、parameterSigningKey）
  --db FILE              清分数据库，代替配置中的 db
  --signing-key FILE     Ed25519 私钥（PEM，权限 0600），代替配置中的 parameterSigningKey`,
    en: `  --config FILE          Back-office JSON config (db, parameterSigningKey)
  --db FILE              Clearing database, in place of the config's db
  --signing-key FILE     Ed25519 private key (PEM, mode 0600), in place of the config's parameterSigningKey`,
  },
  'backoffice.params.status': {
    zh: `用法：busfare-backoffice params status [--behind-only]

每台终端输出一行 JSON：对每种参数类型，给出终端最近一条状态消息中的当前版本和待生效版本、
最新发布版本、已生效的最新版本，以及终端是否落后。终端的当前版本低于已生效的最新版本，
或者既没有最新版本也没有更新的版本时，视为在该类型上落后。终端最近一条状态不含版本信息
（已离线）时，"behind" 为 null。

选项：
  --behind-only    只输出落后或版本未知的终端
  --config FILE    后台 JSON 配置（db）
  --db FILE        清分数据库，代替配置中的 db；数据库必须已存在
  --lang zh|en     帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help       显示本帮助

退出码：输出完成为 0，故障为 1，选项无效或数据库不存在为 2。
`,
    en: `Usage: busfare-backoffice params status [--behind-only]

Prints one JSON line per terminal with, for each parameter kind, the active and pending versions
from its last status message, the newest published version and the newest one already
effective, and whether the terminal is behind. A terminal is behind on a kind when its active
version is below the newest effective one or it has neither the newest version nor a newer one.
"behind" is null when the terminal's last status carries no versions (it went offline).

Options:
  --behind-only    Print only the terminals that are behind or whose versions are unknown
  --config FILE    Back-office JSON config (db)
  --db FILE        Clearing database, in place of the config's db; it must exist
  --lang zh|en     Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help       Show this help

Exit codes: 0 printed, 1 failure, 2 invalid options or a missing database.
`,
  },
  'backoffice.arrivalsEval': {
    zh: `用法：busfare-backoffice arrivals-eval --format suzhou --events FILE [--route ID]
      busfare-backoffice arrivals-eval --format gtfs-avl --gtfs DIR --avl FILE --tz ZONE
                                        [--baseline PREDICTIONS.csv] [--history FILE]

评估 busfare 的到站预测及各基线模型（historical-median、last-vehicle、kalman，提供基线文件时
还有 transitclock）。每个模型的每个预测时距区间在 stdout 上输出一行 JSON：
{"model","horizonMin","n","maeS","rmseS","biasS","withinCaltrans"}；误差 = 预测值 − 实际值，
单位为秒。汇总信息和拟合得到的 busfare 设置输出到 stderr。

选项：
  --format suzhou|gtfs-avl  输入格式
  --events FILE             苏州站点过车记录（无表头：站名、站点编号、车牌、当地时间
                            H:MM:SS（UTC+8）、日期、方向）
  --route ID                苏州文件对应的线路编号（默认取不含扩展名的文件名）
  --gtfs DIR                车辆所在线路的 GTFS 数据（gtfs-avl）
  --avl FILE                单辆车的 GPS 位置记录（gtfs-avl）
  --baseline FILE           TransitClock 预测导出文件，作为模型 "transitclock" 评估
  --history FILE            用于学习的历史位置记录（gtfs-avl）
  --tz ZONE                 AVL 和基线时间所用的 IANA 时区（gtfs-avl）
  --lang zh|en              帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help                显示本帮助
`,
    en: `Usage: busfare-backoffice arrivals-eval --format suzhou --events FILE [--route ID]
       busfare-backoffice arrivals-eval --format gtfs-avl --gtfs DIR --avl FILE --tz ZONE
                                        [--baseline PREDICTIONS.csv] [--history FILE]

Scores busfare's arrival predictions and the baselines (historical-median, last-vehicle, kalman,
and transitclock when a baseline file is given). Prints one JSON line per model and horizon band on
stdout: {"model","horizonMin","n","maeS","rmseS","biasS","withinCaltrans"}; error = predicted −
actual in seconds. A summary and the fitted busfare settings go to stderr.

Options:
  --format suzhou|gtfs-avl  Input format
  --events FILE             Suzhou stop sightings (no header: stop name, stop code, plate, local
                            time H:MM:SS at UTC+8, date, direction)
  --route ID                Route id of the Suzhou file (default: the file name without extension)
  --gtfs DIR                GTFS feed of the vehicle's route (gtfs-avl)
  --avl FILE                GPS positions of one vehicle (gtfs-avl)
  --baseline FILE           TransitClock prediction export, scored as model "transitclock"
  --history FILE            Earlier positions to learn from (gtfs-avl)
  --tz ZONE                 IANA time zone of the AVL and baseline times (gtfs-avl)
  --lang zh|en              Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help                Show this help
`,
  },
  'terminal.main': {
    zh: `用法：busfare-terminal COMMAND [options]

busfare 读卡终端运行程序。

命令：
  nmea FILE|-        用终端的解析器和定位过滤器处理一段 NMEA 0183 记录
  run --config FILE  运行车载刷卡终端：读卡器、刷卡状态机、发件箱、上行链路和司机屏
  list-readers       列出 pcscd 报告的 PC/SC 读卡器和卡槽
  read-card          在 PC/SC 读卡器上读取交通联合卡并输出卡内信息
  version            输出软件版本

选项：
  --lang zh|en       帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help         显示本帮助

运行 "busfare-terminal COMMAND --help" 查看各命令的选项。
`,
    en: `Usage: busfare-terminal COMMAND [options]

The busfare card-reader runtime.

Commands:
  nmea FILE|-        Run an NMEA 0183 recording through the terminal's parser and fix filter
  run --config FILE  Run the validator: reader, tap state machine, outbox, uplink and driver screen
  list-readers       List the PC/SC readers and slots that pcscd reports
  read-card          Read a T-Union card on a PC/SC reader and print its contents
  version            Print the software version

Options:
  --lang zh|en       Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help         Show this help

Run "busfare-terminal COMMAND --help" for the options of a command.
`,
  },
  'terminal.nmea': {
    zh: `用法：busfare-terminal nmea [options] FILE|-

用终端的解析器和定位过滤器处理一段 NMEA 0183 记录（FILE，或用 - 表示 stdin）。每个可用的定位
结果、每条被拒绝或被忽略的语句各在 stdout 上输出一行 JSON。

选项：
  --not-before DATE      可信的最早接收机日期，格式 YYYY-MM-DD（默认为构建日期 {buildDate}）；
                         更早的日期按整数个 GPS 周期（1024 周）向后推移，仅当结果落在 DATE
                         与系统时钟之间时采用，否则 "time" 为 null
  --max-hdop N           可接受的最大 HDOP（默认 {maxHdop}）
  --min-satellites N     可接受的最少在用卫星数（默认 {minSatellites}）
  --lang zh|en           帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help             显示本帮助

退出码：读完输入为 0，无法读取输入为 1，命令行参数无效为 2。
`,
    en: `Usage: busfare-terminal nmea [options] FILE|-

Runs an NMEA 0183 recording (FILE, or - for stdin) through the terminal's parser and fix filter.
Prints one JSON line per usable fix and one per rejected or ignored sentence on stdout.

Options:
  --not-before DATE      earliest receiver date trusted, YYYY-MM-DD (default: build date {buildDate});
                         an earlier date moves forward by whole 1,024-week GPS periods only if that
                         lands between DATE and the system clock, otherwise "time" is null
  --max-hdop N           largest HDOP accepted (default {maxHdop})
  --min-satellites N     fewest satellites in use accepted (default {minSatellites})
  --lang zh|en           language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help             show this help

Exit status: 0 when the input was read, 1 when it could not be read, 2 on invalid arguments.
`,
  },
  'terminal.run': {
    zh: `用法：busfare-terminal run --config FILE

运行一台车载刷卡终端，直到收到 SIGINT 或 SIGTERM：在配置的读卡器上运行刷卡状态机，维护持久化发件箱
（启动时用 PRAGMA integrity_check 检查；文件损坏时移到一旁并抢救数据），运行 MQTT 上行链路、
参数存储、GPS/北斗接收机，以及司机班次和司机屏页面（http://127.0.0.1:8091/，供 kiosk 模式浏览器显示）。
源码中的 terminal/examples/terminal.json 是配置示例。

选项：
  --config FILE   JSON 配置：terminalId, vehicleId, dataDir, broker {url, username, password},
${TERMINAL_RUN_CONFIG_FIELDS_ZH}
  --lang zh|en    帮助、提示和错误信息的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help      显示本帮助

退出码：正常停止为 0，运行时故障为 1，命令行参数或配置无效为 2。
`,
    en: `Usage: busfare-terminal run --config FILE

Runs one validator: the tap state machine on the configured reader, the durable outbox
(checked with PRAGMA integrity_check at start; a damaged file is moved aside and salvaged), the
MQTT uplink, the parameter store, the GPS/BeiDou receiver, and the driver's shift with its screen
on http://127.0.0.1:8091/ for the kiosk browser, until SIGINT or SIGTERM.
An example config is terminal/examples/terminal.json in the source tree.

Options:
  --config FILE   JSON config: terminalId, vehicleId, dataDir, broker {url, username, password},
${TERMINAL_RUN_CONFIG_FIELDS}
  --lang zh|en    Language of help, messages and errors (default: BUSFARE_LANG, else zh)
  -h, --help      Show this help

Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on invalid arguments or config.
`,
  },
  'terminal.listReaders': {
    zh: `用法：busfare-terminal list-readers [options]

列出 pcscd 报告的 PC/SC 读卡器和卡槽，附上终端读卡器型号表中的型号，以及各卡槽中是否有卡。

选项：
  --wait SECONDS   收集读卡器和卡片状态的时长，单位为秒（默认 1）
  --lang zh|en     文本输出和帮助的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  --json           每个读卡器在 stdout 上输出一个 JSON 对象：name, model, slot, card, atr
  -h, --help       显示本帮助

退出码：pcscd 有响应（即使没有读卡器）为 0，pcscd 或 nfc-pcsc 不可用为 1，命令行参数无效为 2。
`,
    en: `Usage: busfare-terminal list-readers [options]

Lists the PC/SC readers and slots that pcscd reports, with the model from the terminal's reader
table and whether a card is in each slot.

Options:
  --wait SECONDS   how long to collect readers and card states (default 1)
  --lang zh|en     language of the text output and this help (default: BUSFARE_LANG, else zh)
  --json           one JSON object per reader on stdout: name, model, slot, card, atr
  -h, --help       show this help

Exit status: 0 when pcscd answered (even with no readers), 1 when pcscd or nfc-pcsc is unavailable,
2 on invalid arguments.
`,
  },
  'terminal.readCard': {
    zh: `用法：busfare-terminal read-card [options]

等待交通联合卡或手机靠近 PC/SC 读卡器，只读不写地输出其内容：卡类型代码、卡号、发卡机构、
有效期、余额、交易明细（EF18）和乘车记录（EF1E）。

选项：
  --reader NAME     使用 PC/SC 名称中包含 NAME 的读卡器（默认：第一个非接触式读卡器）
  --timeout SECONDS 等待卡片的时长，单位为秒（默认 30）
  --lang zh|en      文本输出和帮助的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  --json            在 stdout 上输出一个 JSON 对象，代替文本
  -h, --help        显示本帮助

退出码：读卡成功为 0；超时仍未检测到卡、卡无法读取或 pcscd 不可用为 1；命令行参数无效为 2。
`,
    en: `Usage: busfare-terminal read-card [options]

Waits for a T-Union card or phone on a PC/SC reader and prints what it holds without changing it:
card type code, number, issuer, validity, balance, the purchase log (EF18) and the transit records
(EF1E).

Options:
  --reader NAME     use the reader whose PC/SC name contains NAME (default: the first contactless reader)
  --timeout SECONDS how long to wait for a card (default 30)
  --lang zh|en      language of the text output and this help (default: BUSFARE_LANG, else zh)
  --json            print one JSON object on stdout instead of text
  -h, --help        show this help

Exit status: 0 when the card was read, 1 when no card came, the card could not be read or pcscd is
unavailable, 2 on invalid arguments.
`,
  },
  'terminal.version': {
    zh: `用法：busfare-terminal version

在 stdout 上输出读卡终端软件的版本号，例如 0.1.0。"busfare-terminal --version" 输出相同内容。

选项：
  --lang zh|en   帮助的语言（默认取环境变量 BUSFARE_LANG，未设置时为 zh）
  -h, --help     显示本帮助

退出码：0。
`,
    en: `Usage: busfare-terminal version

Prints the version of the terminal software on stdout, for example 0.1.0.
"busfare-terminal --version" prints the same.

Options:
  --lang zh|en   language of this help (default: BUSFARE_LANG, else zh)
  -h, --help     show this help

Exit status: 0.
`,
  },
} as const satisfies Record<string, CatalogueEntry>;

export type CliHelpId = keyof typeof CLI_HELP;

/** Returns a command's help text in the language, with its {name} placeholders filled from params. */
export function cliHelp(id: CliHelpId, language: Language = DEFAULT_LANGUAGE, params: Record<string, string | number> = {}): string {
  return fillPlaceholders(CLI_HELP[id][language], params);
}

function fillPlaceholders(text: string, params: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/**
 * Messages of the operator-facing command lines other than their help: usage errors, the lead line
 * of a config error and confirmations. Under a lead line, field paths and values stay as written
 * in the file, and validation problems come from VALIDATION_TEXT.
 */
export const CLI_TEXT = {
  'cli.unknownCommand': { zh: '未知命令 "{command}"，运行 "{program} --help" 查看可用命令', en: 'unknown command "{command}". Run "{program} --help" to list the commands.' },
  'cli.unknownOption': { zh: '未知选项 "{option}"，运行 "{program} --help" 查看可用选项', en: 'unknown option "{option}". Run "{program} --help" to list the options.' },
  'cli.missingOptionValue': { zh: '选项 {option} 缺少取值', en: 'missing value after {option}' },
  'cli.optionTakesNoValue': { zh: '选项 {option} 不带取值', en: '{option} takes no value' },
  'cli.unexpectedArgument': { zh: '多余的参数 "{argument}"：此命令不接受位置参数', en: 'unexpected argument "{argument}": this command takes no positional arguments' },
  'cli.missingConfig': { zh: '缺少 --config FILE（JSON 配置文件）', en: 'missing --config FILE (the JSON config)' },
  'cli.invalidPort': { zh: '{option} 的值 "{value}" 无效：应为 0-65535 的 TCP 端口（0 表示任选空闲端口）', en: 'invalid {option} "{value}": expected a TCP port 0-65535 (0 = any free port)' },
  'cli.configInvalid': { zh: '配置无效（{source}）：', en: 'invalid configuration ({source}):' },
  'cli.terminalConfigInvalid': { zh: '终端配置无效（{source}）：', en: 'invalid terminal configuration ({source}):' },
  'cli.keyFileInvalid': { zh: '密钥文件无效（{source}）：', en: 'invalid key file ({source}):' },
  'cli.addressInUse': {
    zh: '监听失败，地址{address} 已被占用。请停止占用它的程序，或用 --mqtt-port 和 --http-port 另选端口（0 表示任选空闲端口）',
    en: 'listen failed, address{address} already in use. Stop the program that uses it, or pick other ports with --mqtt-port and --http-port (0 = any free port)',
  },
  'cli.serve.console': { zh: '后台控制台：{url}', en: 'Back office console: {url}' },
  'cli.serve.ops': { zh: '运营控制台（需登录）：{url}', en: 'Operator console (login required): {url}' },
  'cli.serve.broker': { zh: 'MQTT 服务器：{url}', en: 'MQTT broker: {url}' },
  'cli.serve.portOnlyZero': {
    zh: '--port 的值 "{value}" 无效：只接受 --port 0（MQTT 服务器和控制台都任选空闲端口）；指定端口请用 --mqtt-port 和 --http-port',
    en: 'invalid --port "{value}": only --port 0 (free ports for the broker and the console) is accepted; choose ports with --mqtt-port and --http-port',
  },
  'cli.serve.adminCreated': {
    zh: '已创建首个管理员 {username}，其密码在文件 {file} 中（权限 0600），首次登录后请修改密码',
    en: 'First administrator {username} created: its password is in {file} (mode 0600); change it after the first login',
  },
  'cli.terminals.expectedAction': { zh: '应为 "add ID"、"list" 或 "remove ID"', en: 'expected "add ID", "list" or "remove ID"' },
  'cli.terminals.registered': { zh: '终端 {terminalId} 已登记；上面的密钥只显示这一次', en: 'terminal {terminalId} registered; the secret above is shown only once' },
  'cli.terminals.removed': { zh: '终端 {terminalId} 的凭据已注销', en: 'terminal {terminalId} removed' },
  'cli.params.unknownCommand': { zh: '未知的 params 命令 "{command}"，运行 "busfare-backoffice params --help" 查看可用命令', en: 'unknown params command "{command}". Run "busfare-backoffice params --help" to list the commands.' },
  'cli.params.missingTable': { zh: '缺少 --table FILE（票价表 JSON）', en: 'missing --table FILE (the fare table JSON)' },
  'cli.params.dryRunRoutesSet': { zh: '未给出 --routes：使用 {db} 中当前生效的线路参数集（版本 {version}）', en: 'no --routes: using the routes parameter set in effect in {db} (version {version})' },
  'cli.params.dryRunNoRoutesSet': {
    zh: '未给出 --routes，{db} 中也没有当前生效的线路参数集：只使用票价表内的站点列表',
    en: 'no --routes, and {db} contains no routes parameter set in effect: only the stop lists inside the fare table are used',
  },
  'cli.params.missingTaps': { zh: '缺少 --taps FILE.csv（样例刷卡记录）', en: 'missing --taps FILE.csv (the sample taps)' },
  'cli.params.missingPrivate': { zh: '缺少 --private FILE（私钥的写入位置）', en: 'missing --private FILE (where to write the private key)' },
  'cli.params.missingPublic': { zh: '缺少 --public FILE（公钥的写入位置）', en: 'missing --public FILE (where to write the public key)' },
  'cli.params.missingKind': { zh: '缺少 --kind KIND（fare-table、blacklist、routes 或 issuers）', en: 'missing --kind KIND (fare-table, blacklist, routes or issuers)' },
  'cli.params.invalidKind': { zh: '--kind 的值 "{value}" 无效：应为 fare-table、blacklist、routes 或 issuers', en: 'invalid --kind "{value}": expected fare-table, blacklist, routes or issuers' },
  'cli.params.missingFile': { zh: '缺少 --file FILE（参数集本体的 JSON）', en: 'missing --file FILE (the set body as JSON)' },
  'cli.params.missingVersion': { zh: '缺少 --version N', en: 'missing --version N' },
  'cli.params.invalidVersion': { zh: '--version 的值 "{value}" 无效：应为正整数', en: 'invalid --version "{value}": expected a positive integer' },
  'cli.params.keygenWrote': {
    zh: '已写入 {privateKey}（权限 0600）和 {publicKey}；请把 parameterSigningKey 设为 {privateKey}，并把 {publicKey} 部署到每台终端',
    en: 'wrote {privateKey} (mode 0600) and {publicKey}; set parameterSigningKey to {privateKey} and provision {publicKey} on every terminal',
  },
  'cli.params.stored': { zh: '已把 {kind} 版本 {version} 存入 {db}；运行中的后台会发布它', en: 'stored {kind} version {version} in {db}; the running back office publishes it' },
  'cli.params.statusSummary': { zh: '共 {count} 台终端，{behind} 台落后，{unknown} 台未报告版本', en: '{count} terminals, {behind} behind, {unknown} without reported versions' },
  'cli.terminal.driverScreen': { zh: '司机屏：{url}', en: 'driver screen at {url}' },
  'cli.invalidSeconds': { zh: '--{name} 的值 "{value}" 无效：应为大于 0、不超过 3600 的秒数', en: 'invalid --{name} "{value}": expected a number of seconds from 0 to 3600, above 0' },
  'cli.nmea.missingFile': { zh: '缺少 FILE（用 - 表示 stdin）', en: 'missing FILE (use - for stdin)' },
  'cli.nmea.tooManyFiles': { zh: '只能给出一个 FILE', en: 'expected exactly one FILE' },
  'cli.nmea.invalidDate': { zh: '--not-before 的值 "{value}" 无效：应为日期，例如 2024-01-31', en: 'invalid --not-before "{value}": expected a date such as 2024-01-31' },
  'cli.nmea.invalidNumber': { zh: '--{name} 的值 "{value}" 无效：应为不小于 0 的数', en: 'invalid --{name} "{value}": expected a number of 0 or more' },
  'cli.nmea.invalidWholeNumber': { zh: '--{name} 的值 "{value}" 无效：应为不小于 0 的整数', en: 'invalid --{name} "{value}": expected a whole number of 0 or more' },
  'cli.nmea.readFailed': { zh: '读取 {input} 失败：{message}', en: 'failed to read {input}: {message}' },
  'cli.nmea.summary': { zh: '{fix} 个定位结果，{rejected} 条被拒绝，{ignored} 条被忽略', en: '{fix} fixes, {rejected} rejected, {ignored} ignored' },
  'cli.readCard.invalidReader': { zh: '--reader 的值 "" 无效：应为读卡器名称的一部分', en: 'invalid --reader "": expected part of a reader name' },
  'cli.readCard.noCard': { zh: '{seconds} 秒内读卡器 "{reader}" 上没有检测到卡', en: 'no card on reader "{reader}" within {seconds} s' },
  'cli.readCard.failed': { zh: '读卡失败：{message}', en: 'reading the card failed: {message}' },
  'cli.readCard.applicationBlocked': { zh: '电子钱包应用已锁定（SW {sw}）', en: 'the e-purse application is blocked (SW {sw})' },
  'cli.readCard.noEpurse': { zh: '卡上没有交通联合电子钱包应用', en: 'no T-Union e-purse application on the card' },
  'cli.params.blacklistActionMissing': { zh: '"params blacklist" 之后缺少 "add" 或 "remove"', en: 'expected "add" or "remove" after "params blacklist", got nothing' },
  'cli.params.blacklistActionInvalid': { zh: '"params blacklist" 之后应为 "add" 或 "remove"，而不是 "{action}"', en: 'expected "add" or "remove" after "params blacklist", got "{action}"' },
  'cli.params.missingAsn': { zh: '缺少 ASN：在 "params blacklist {action}" 之后给出一个或多个', en: 'missing ASN: give one or more after "params blacklist {action}"' },
  'cli.params.invalidAsn': { zh: 'ASN 无效：', en: 'invalid ASN:' },
  'cli.params.missingSigningKey': {
    zh: '缺少签名密钥：请用 --signing-key FILE 指定，或在配置中设置 parameterSigningKey（用 "busfare-backoffice params keygen" 生成）',
    en: 'missing signing key: pass --signing-key FILE or set parameterSigningKey in the config (create one with "busfare-backoffice params keygen")',
  },
  'cli.fileInvalid': { zh: '文件无效（{path}）：', en: 'invalid {path}:' },
  'cli.params.tapsInvalid': { zh: '刷卡记录无效：', en: 'invalid taps:' },
  'cli.params.gtfsInvalid': { zh: 'GTFS 数据无效（{folder}）：', en: 'invalid GTFS feed {folder}:' },
  'cli.params.csvInvalid': { zh: 'CSV 无效：{problem}', en: 'invalid CSV: {problem}' },
  'cli.fileUnreadable': { zh: '无法读取文件：{message}', en: 'cannot read the file: {message}' },
  'cli.fileError.notFound': { zh: '文件不存在，请检查路径', en: 'no such file; check the path' },
  'cli.fileError.exists': { zh: '文件已存在', en: 'the file already exists' },
  'cli.fileError.accessDenied': { zh: '没有访问权限，请检查文件及其所在文件夹的权限', en: 'permission denied; check the permissions of the file and its folder' },
  'cli.fileError.isFolder': { zh: '这是一个文件夹，应为文件', en: 'this is a folder, expected a file' },
  'cli.jsonInvalid': { zh: 'JSON 格式无效：{message}', en: 'invalid JSON: {message}' },
  'cli.params.setInvalid': { zh: '参数集无效：', en: 'invalid parameter set:' },
  'cli.params.kindMismatch': { zh: 'kind: 文件中是 "{found}" 参数集，应为 "{kind}"', en: 'kind: the file contains a "{found}" set, expected "{kind}"' },
  'cli.params.notFareTable': { zh: 'kind: 应为 "fare-table"，而不是 {found}', en: 'kind: expected "fare-table", got {found}' },
  'cli.params.tapsUnreadable': { zh: '无法读取刷卡记录：{message}', en: 'cannot read the taps: {message}' },
  'cli.params.routesUnreadable': { zh: '无法读取线路数据：{message}', en: 'cannot read the route data: {message}' },
  'cli.params.fareTableUnreadable': { zh: '无法读取票价表：{message}', en: 'cannot read the fare table: {message}' },
  'cli.terminals.invalidId': { zh: '终端编号 "{terminalId}" 无效：请使用 1-32 个字母、数字、"_" 或 "-"', en: 'invalid terminal id "{terminalId}": use 1-32 letters, digits, "_" or "-"' },
  'cli.terminals.alreadyRegistered': { zh: '终端 {terminalId} 已登记；如需签发新密钥，请加 --replace', en: 'terminal {terminalId} is already registered; pass --replace to issue a new secret' },
  'cli.terminals.notRegistered': { zh: '终端 {terminalId} 未登记', en: 'terminal {terminalId} is not registered' },
  'cli.arrivals.flagNeeded': { zh: '使用 --format {format} 时必须给出 --{flag}', en: '--format {format} needs --{flag}' },
  'cli.arrivals.formatMissing': { zh: 'arrivals-eval：缺少 --format（suzhou 或 gtfs-avl）', en: 'arrivals-eval: missing --format (suzhou or gtfs-avl)' },
  'cli.arrivals.invalidTimeZone': { zh: '--tz 的值 "{value}" 无效：应为 IANA 时区名，例如 America/New_York', en: 'invalid --tz "{value}": expected an IANA time zone name such as America/New_York' },
  'cli.arrivals.invalidFormat': { zh: '--format 的值 "{value}" 无效：应为 suzhou 或 gtfs-avl', en: 'invalid --format "{value}": expected suzhou or gtfs-avl' },
  'cli.arrivals.inputUnreadable': { zh: '无法读取 --{flag} {path}：{message}', en: 'cannot read --{flag} {path}: {message}' },
  'cli.arrivals.suzhouSummary': {
    zh: '线路 {route}：{sightings} 次到站记录（跳过 {markerRows} 个标记行），{trips} 个行程；训练期 {trainingFirst} 至 {trainingLast}（{trainingDates} 天），测试期 {testFirst} 至 {testLast}（{testDates} 天）；{unpredictable} 个缺少历史数据的预测目标未计入，{substituted} 处模型缺口用历史中位数补齐',
    en: 'route {route}: {sightings} sightings ({markerRows} marker rows skipped), {trips} trips; training {trainingFirst}..{trainingLast} ({trainingDates} dates), test {testFirst}..{testLast} ({testDates} dates); {unpredictable} targets without history left out, {substituted} model gaps filled by the historical median',
  },
  'cli.arrivals.settings': { zh: 'busfare 模型参数：{settings}', en: 'busfare settings: {settings}' },
  'cli.arrivals.signals': {
    zh: '信号灯周期：内部训练日期中 {stops} 个站点的到站时刻按固定周期重复；验证日期上各离散系数 k 与顺延比例 c 的平均绝对误差（秒，k/c）：{maeByScale}；选用 k = {scale}，c = {carry}',
    en: 'signal cycles: arrivals repeat with a fixed cycle at {stops} stops in the inner training dates; validation MAE (s) by spread k and carried share c (k/c): {maeByScale}; chosen k = {scale}, c = {carry}',
  },
  'cli.arrivals.gtfsAvlSummary': {
    zh: '{fixes} 个定位点；识别出的行程：{trips}；{requests} 次预测请求；历史数据：时刻表行程 {scheduleTrips} 个，实际记录行程 {historyTrips} 个；未计入的预测目标：{noHistory} 个缺少历史数据，{noBaseline} 个没有当时有效的 TransitClock 预测',
    en: '{fixes} positions; detected trips: {trips}; {requests} prediction requests; history: {scheduleTrips} timetable trips, {historyTrips} recorded trips; targets left out: {noHistory} without history, {noBaseline} without a current TransitClock prediction',
  },
  'cli.arrivals.detectedTrip': { zh: '{route}/{trip}（{stops} 站）', en: '{route}/{trip} ({stops} stops)' },
  'cli.arrivals.settingsFrom': { zh: 'busfare 模型参数（{source}）：{settings}', en: 'busfare settings ({source}): {settings}' },
  'cli.arrivals.settingsSource.fitted': { zh: '由历史数据拟合', en: 'fitted' },
  'cli.arrivals.settingsSource.default': { zh: '默认值', en: 'default' },
  'cli.signingKey.unreadable': {
    zh: '无法读取参数签名密钥 {path}：{message}；请用 "busfare-backoffice params keygen" 生成',
    en: 'parameter signing key {path}: cannot read the file: {message}; create one with "busfare-backoffice params keygen"',
  },
  'cli.signingKey.tooOpen': { zh: '参数签名密钥 {path} 的权限为 {mode}，其他用户可以读取；请运行 "chmod 600 {path}"', en: 'parameter signing key {path}: mode {mode} lets other users read it; run "chmod 600 {path}"' },
  'cli.signingKey.invalid': { zh: '参数签名密钥 {path} 无效：{message}；应为 PEM（PKCS #8）格式的 Ed25519 私钥', en: 'parameter signing key {path}: {message}; expected an Ed25519 private key in PEM (PKCS #8)' },
  'cli.signingKey.cannotCreate': { zh: '无法创建参数签名密钥文件 {path}：{message}', en: 'parameter signing key {path}: cannot create the file: {message}' },
  'cli.signingKey.exists': {
    zh: '参数签名密钥文件 {path} 已存在，keygen 未做任何改动。终端信任现有的公钥，换用新密钥后，终端会拒收此后发布的参数集，因此请继续使用现有密钥。确需生成新密钥对时，先把旧文件移走（例如 "mv {path} {path}.old"），或用 --private 和 --public 指定其他路径；keygen 没有覆盖已有文件的选项',
    en: 'parameter signing key {path}: the file already exists, and keygen changed nothing. Terminals trust the existing public key and would reject sets signed with a new one, so keep using the existing key. To make a new pair anyway, move the old file away first (for example "mv {path} {path}.old") or pass other paths with --private and --public; keygen has no option to overwrite a file.',
  },
  'cli.signingKey.samePath': { zh: '--private 和 --public 指向同一个文件 {path}；请为私钥和公钥指定不同的路径', en: '--private and --public both name {path}; pass a different path for each key' },
  'cli.signingKey.folderMissing': {
    zh: '无法创建密钥文件 {path}：文件夹 {folder} 不存在；请先创建它（例如 "mkdir -p {folder}"），或换一个已有文件夹中的路径',
    en: 'cannot create the key file {path}: folder {folder} does not exist, so create it first (for example "mkdir -p {folder}") or choose a path in an existing folder',
  },
  'cli.hsm.pinNotSet': { zh: '未设置存放 HSM 用户 PIN 的环境变量 {variable}', en: 'environment variable {variable} with the HSM user PIN is not set' },
  'cli.hsm.addonMissing': {
    zh: '未安装 pkcs11js 扩展（{message}）；请安装 C++ 编译工具和 python3，然后运行 "npm rebuild pkcs11js" 或重新运行 "npm install"',
    en: 'the pkcs11js addon is not installed ({message}); install a C++ toolchain and python3, then run "npm rebuild pkcs11js" or "npm install" again',
  },
  'cli.hsm.moduleUnloadable': { zh: '无法加载 PKCS#11 模块 {library}：{message}', en: 'cannot load the PKCS#11 module {library}: {message}' },
  'cli.hsm.tokenNotFound': { zh: '找不到标签为 "{token}" 的 PKCS#11 令牌', en: 'no PKCS#11 token labelled "{token}"' },
  'cli.hsm.loginFailed': { zh: '登录令牌 "{token}" 失败：{message}', en: 'login to token "{token}" failed: {message}' },
  'cli.hsm.testKeys': {
    zh: '令牌 "{token}" 中有测试密钥（{keys}），只有设置了 security.allowTestKeys 的测试环境才接受',
    en: 'token "{token}" contains test keys ({keys}), which are accepted only on a bench: set security.allowTestKeys there',
  },
  'cli.terminal.driverScreenPortUnavailable': {
    zh: '无法在 127.0.0.1:{port} 上启动司机屏：{message}；请把 driverScreen.port 设为空闲端口',
    en: 'failed to start the driver screen on 127.0.0.1:{port}: {message}; set driverScreen.port to a free port',
  },
  'cli.terminal.driverScreenFailed': { zh: '无法在 127.0.0.1:{port} 上启动司机屏：{message}', en: 'failed to start the driver screen on 127.0.0.1:{port}: {message}' },
  'cli.params.asnNotCard': {
    zh: '{field}: {value} 既不是 20 位卡号，也不是其右侧 8 字节（16 位十六进制数字）',
    en: '{field}: {value} is neither a 20-digit card number nor its right-most 8 bytes as 16 hex digits',
  },
  'cli.db.folderMissing': {
    zh: 'db: 数据库 {db} 所在的文件夹 {folder} 不存在；请创建该文件夹，或把 db（--db）设为已有文件夹中的文件',
    en: 'db: folder {folder} of the database {db} does not exist, so create it or set db (--db) to a file in an existing folder',
  },
  'cli.db.folderUnreadable': {
    zh: 'db: 无法读取数据库 {db} 所在的文件夹 {folder}（{reason}）；请修正其权限，或把 db（--db）设为其他文件',
    en: 'db: failed to read folder {folder} of the database {db} ({reason}), so fix its permissions or set db (--db) to another file',
  },
  'cli.db.notFolder': { zh: 'db: {folder} 不是文件夹；请把 db（--db）设为已有文件夹中的文件', en: 'db: {folder} is not a folder, so set db (--db) to a file in an existing folder' },
  'cli.db.folderNotWritable': {
    zh: 'db: 当前用户不能写入数据库 {db} 所在的文件夹 {folder}；请授予写权限，或把 db（--db）设为可写文件夹中的文件',
    en: 'db: folder {folder} of the database {db} is not writable by this user, so grant write access or set db (--db) to a file in a writable folder',
  },
  'cli.db.notFile': { zh: 'db: {db} 不是文件；请把 db（--db）设为 SQLite 数据库文件', en: 'db: {db} is not a file, so set db (--db) to an SQLite database file' },
  'cli.db.notReadWrite': { zh: 'db: 当前用户不能读写数据库 {db}；请修正其权限', en: 'db: database {db} is not readable and writable by this user, so fix its permissions' },
  'cli.db.missing': {
    zh: '数据库 {db} 不存在；请检查路径，或用 --db FILE（或在 --config FILE 中设置 "db"）指定已有的清分数据库',
    en: 'database {db} does not exist: check the path, or name an existing clearing database with --db FILE (or "db" in --config FILE)',
  },
  'cli.db.unreadable': { zh: '无法读取数据库 {db}（{reason}）；请修正其权限，或用 --db FILE 指定', en: 'failed to read the database {db} ({reason}), so fix its permissions or pass --db FILE' },
  'cli.db.missingNotFile': { zh: '数据库 {db} 不是文件；请用 --db FILE 指定清分数据库', en: 'database {db} is not a file, so pass --db FILE to name the clearing database' },
  'cli.paths.folderMissing': { zh: '{field}: 文件夹 {path} 不存在；请创建它，或把 {field} 设为已有的文件夹', en: '{field}: folder {path} does not exist, so create it or set {field} to an existing folder' },
  'cli.paths.folderUnreadable': {
    zh: '{field}: 无法读取文件夹 {path}（{reason}）；请修正其权限，或把 {field} 设为其他文件夹',
    en: '{field}: failed to read folder {path} ({reason}), so fix its permissions or set {field} to another folder',
  },
  'cli.paths.notFolder': { zh: '{field}: {path} 不是文件夹；请把 {field} 设为文件夹', en: '{field}: {path} is not a folder, so set {field} to a folder' },
  'cli.paths.folderNotWritable': {
    zh: '{field}: 当前用户不能写入文件夹 {path}；请授予写权限，或把 {field} 设为可写的文件夹',
    en: '{field}: folder {path} is not writable by this user, so grant write access or set {field} to a writable folder',
  },
  'cli.paths.fileMissing': { zh: '不存在', en: 'does not exist' },
  'cli.paths.notFile': { zh: '不是文件', en: 'is not a file' },
  'cli.paths.fileNotReadable': { zh: '当前用户无权读取', en: 'is not readable by this user' },
  'cli.paths.fileUnreadable': { zh: '无法读取（{reason}）', en: 'is unreadable ({reason})' },
  'cli.paths.publicKeyFile': {
    zh: 'parameterPublicKeyFile: {path} {problem}；请把后台的参数签名公钥复制到该位置，或修改 parameterPublicKeyFile',
    en: "parameterPublicKeyFile: {path} {problem}, so copy the back office's parameter-signing public key there or set parameterPublicKeyFile",
  },
  'cli.paths.publicKeyNotPem': {
    zh: 'parameterPublicKeyFile: {path} 不是 PEM 格式的公钥；请换成后台的 Ed25519 参数签名公钥',
    en: "parameterPublicKeyFile: {path} is not a PEM public key, so replace it with the back office's Ed25519 parameter-signing public key",
  },
  'cli.paths.publicKeyType': {
    zh: 'parameterPublicKeyFile: {path} 中的密钥类型为 {type}，不是 Ed25519；请换成后台的参数签名公钥',
    en: "parameterPublicKeyFile: {path} contains a key of type {type}, not Ed25519, so replace it with the back office's parameter-signing public key",
  },
  'cli.paths.nmeaFile': { zh: 'gps.path: {path} {problem}；请把 gps.path 设为可读取的 NMEA 记录文件', en: 'gps.path: {path} {problem}, so set gps.path to a readable NMEA recording' },
  'cli.paths.role.pkcs11': { zh: 'HSM 的 PKCS#11 模块', en: 'the PKCS#11 module of the HSM' },
  'cli.paths.role.keys': { zh: '发卡机构密钥文件', en: 'the issuer key file' },
  'cli.paths.role.tlsCertificate': { zh: 'TLS 证书', en: 'the TLS certificate' },
  'cli.paths.role.tlsPrivateKey': { zh: 'TLS 私钥', en: 'the TLS private key' },
  'cli.paths.fileMissingFor': { zh: '{field}: {role} {path} 不存在；请创建它，或把 {field} 设为已有的文件', en: '{field}: {role} {path} does not exist, so create it or set {field} to an existing file' },
  'cli.paths.fileUnreadableFor': {
    zh: '{field}: 无法读取{role} {path}（{reason}）；请修正其权限，或把 {field} 设为其他文件',
    en: '{field}: failed to read {role} {path} ({reason}), so fix its permissions or set {field} to another file',
  },
  'cli.paths.notFileFor': { zh: '{field}: {path} 不是文件；请把 {field} 设为{role}', en: '{field}: {path} is not a file, so set {field} to {role}' },
  'cli.paths.fileNotReadableFor': { zh: '{field}: 当前用户无权读取{role} {path}；请修正其权限', en: '{field}: {role} {path} is not readable by this user, so fix its permissions' },
  'cli.paths.pinNotSet': {
    zh: 'pkcs11.pinVariable: 未设置存放 HSM 用户 PIN 的环境变量 {variable}；请在启动前设置',
    en: 'pkcs11.pinVariable: environment variable {variable} with the HSM user PIN is not set, so set it before starting',
  },
  'cli.paths.gtfsMissing': {
    zh: 'arrivals.gtfs: GTFS 文件夹 {folder} 不存在；请把 arrivals.gtfs 设为线路 GTFS 文件所在的文件夹，或删除该项以关闭到站预测',
    en: "arrivals.gtfs: GTFS folder {folder} does not exist, so set arrivals.gtfs to the folder of the routes' GTFS files or remove it to turn arrival predictions off",
  },
  'cli.paths.gtfsUnreadable': { zh: 'arrivals.gtfs: 无法读取 GTFS 文件夹 {folder}（{reason}）；请修正其权限', en: 'arrivals.gtfs: failed to read GTFS folder {folder} ({reason}), so fix its permissions' },
  'cli.paths.gtfsNotFolder': {
    zh: 'arrivals.gtfs: {folder} 不是文件夹；请把 arrivals.gtfs 设为线路 GTFS 文件（stops.txt、routes.txt、trips.txt、stop_times.txt）所在的文件夹',
    en: "arrivals.gtfs: {folder} is not a folder, so set arrivals.gtfs to the folder of the routes' GTFS files (stops.txt, routes.txt, trips.txt, stop_times.txt)",
  },
  'cli.paths.gtfsFeedProblem': { zh: 'arrivals.gtfs: GTFS 文件夹 {folder}：{problem}', en: 'arrivals.gtfs: GTFS folder {folder}: {problem}' },
  'cli.paths.notPem': { zh: '{field}: {path} 不是 PEM 格式的{role}；请把 {field} 设为 PEM 格式的{role}文件', en: '{field}: {path} is not a PEM {role}, so set {field} to a PEM {role} file' },
  'cli.paths.role.certificate': { zh: '证书', en: 'certificate' },
  'cli.paths.role.privateKey': { zh: '私钥', en: 'private key' },
  'cli.pcsc.unavailable': {
    zh: '无法加载 PC/SC 读卡器所需的 nfc-pcsc：{message}。请安装 libpcsclite-dev（Debian：apt-get install libpcsclite-dev pcscd），然后运行 "npm rebuild @pokusew/pcsclite" 或重新安装 nfc-pcsc',
    en: 'cannot load nfc-pcsc for the PC/SC reader: {message}. Install libpcsclite-dev (Debian: apt-get install libpcsclite-dev pcscd), then run "npm rebuild @pokusew/pcsclite" or reinstall nfc-pcsc.',
  },
  'cli.pcsc.serviceDownHint': {
    zh: '请启动 pcscd 服务（systemctl start pcscd.socket；没有 systemd 时以 root 身份运行 pcscd）。Debian 上若未安装，先运行 apt-get install pcscd',
    en: 'Start the pcscd service (systemctl start pcscd.socket, or run pcscd as root where there is no systemd). On Debian, install it first if missing: apt-get install pcscd.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type CliTextId = keyof typeof CLI_TEXT;

/** Returns a command-line message in the language, with its {name} placeholders filled from params. */
export function cliText(id: CliTextId, language: Language = DEFAULT_LANGUAGE, params: Record<string, string | number> = {}): string {
  return fillPlaceholders(CLI_TEXT[id][language], params);
}

/**
 * Texts that describe a failed validation check of a config file, a parameter set or a form. The
 * first entries word zod issues by their code, and a field path stays as written in the file.
 * `validation.schema.*` entries are the schemas' own messages. A schema sets the English text, and
 * zodIssueText finds the entry by that text to print it in the chosen language.
 * `validation.params.*` entries are the parameter authoring checks that zod does not make.
 * `validation.keyFile.*` entries word problems of the issuer key file and `validation.gtfs.*`
 * entries problems of a GTFS feed. Both name entries, files and columns as the file has them.
 */
export const VALIDATION_TEXT = {
  'validation.required': { zh: '缺少此项（应为{expected}）', en: 'required, but missing (expected {expected})' },
  'validation.invalidType': { zh: '类型无效：应为{expected}，实际为{received}', en: 'expected {expected}, received {received}' },
  'validation.expectedType': { zh: '类型无效：应为{expected}', en: 'expected {expected}' },
  'validation.wholeNumber': { zh: '应为整数', en: 'must be a whole number' },
  'validation.type.string': { zh: '字符串', en: 'string' },
  'validation.type.number': { zh: '数字', en: 'number' },
  'validation.type.int': { zh: '整数', en: 'integer' },
  'validation.type.boolean': { zh: '布尔值（true 或 false）', en: 'boolean' },
  'validation.type.object': { zh: '对象', en: 'object' },
  'validation.type.array': { zh: '数组', en: 'array' },
  'validation.type.date': { zh: '日期', en: 'date' },
  'validation.type.bigint': { zh: '大整数', en: 'bigint' },
  'validation.type.record': { zh: '对象', en: 'object' },
  'validation.type.tuple': { zh: '数组', en: 'array' },
  'validation.notEmpty': { zh: '不能为空', en: 'must not be empty' },
  'validation.number.atLeast': { zh: '应不小于 {minimum}', en: 'must be at least {minimum}' },
  'validation.number.greaterThan': { zh: '应大于 {minimum}', en: 'must be greater than {minimum}' },
  'validation.number.atMost': { zh: '应不大于 {maximum}', en: 'must be at most {maximum}' },
  'validation.number.lessThan': { zh: '应小于 {maximum}', en: 'must be less than {maximum}' },
  'validation.number.exactly': { zh: '应等于 {value}', en: 'must be exactly {value}' },
  'validation.length.atLeast': { zh: '长度应至少为 {minimum} 个字符', en: 'must have at least {minimum} characters' },
  'validation.length.atMost': { zh: '长度应不超过 {maximum} 个字符', en: 'must have at most {maximum} characters' },
  'validation.length.exactly': { zh: '长度应为 {length} 个字符', en: 'must have exactly {length} characters' },
  'validation.items.atLeast': { zh: '应至少有 {minimum} 项', en: 'must have at least {minimum} items' },
  'validation.items.atMost': { zh: '应不超过 {maximum} 项', en: 'must have at most {maximum} items' },
  'validation.items.exactly': { zh: '应恰好有 {length} 项', en: 'must have exactly {length} items' },
  'validation.oneValue': { zh: '应为 {value}', en: 'expected {value}' },
  'validation.oneOf': { zh: '应为以下之一：{values}', en: 'expected one of {values}' },
  'validation.pattern': { zh: '格式无效：应匹配正则表达式 {pattern}', en: 'invalid format: must match {pattern}' },
  'validation.startsWith': { zh: '格式无效：应以 {prefix} 开头', en: 'invalid format: must start with {prefix}' },
  'validation.endsWith': { zh: '格式无效：应以 {suffix} 结尾', en: 'invalid format: must end with {suffix}' },
  'validation.includes': { zh: '格式无效：应包含 {text}', en: 'invalid format: must include {text}' },
  'validation.format': { zh: '格式无效：应为{format}', en: 'invalid {format}' },
  'validation.format.url': { zh: 'URL', en: 'URL' },
  'validation.format.email': { zh: '电子邮件地址', en: 'email address' },
  'validation.format.datetime': { zh: 'ISO 8601 日期时间', en: 'ISO 8601 date and time' },
  'validation.format.date': { zh: 'ISO 8601 日期', en: 'ISO 8601 date' },
  'validation.format.time': { zh: 'ISO 8601 时间', en: 'ISO 8601 time' },
  'validation.format.ipv4': { zh: 'IPv4 地址', en: 'IPv4 address' },
  'validation.format.ipv6': { zh: 'IPv6 地址', en: 'IPv6 address' },
  'validation.format.uuid': { zh: 'UUID', en: 'UUID' },
  'validation.format.base64': { zh: 'Base64 字符串', en: 'base64 string' },
  'validation.multipleOf': { zh: '应为 {divisor} 的倍数', en: 'must be a multiple of {divisor}' },
  'validation.unrecognizedKey': { zh: '未知字段：{keys}', en: 'unrecognized key {keys}' },
  'validation.unrecognizedKeys': { zh: '未知字段：{keys}', en: 'unrecognized keys {keys}' },
  'validation.noMatchingForm': { zh: '不符合任何一种允许的格式', en: 'matches none of the allowed forms' },
  'validation.invalidKey': { zh: '键无效', en: 'invalid key' },
  'validation.invalidElement': { zh: '元素无效', en: 'invalid element' },
  'validation.invalid': { zh: '值无效', en: 'invalid value' },
  'validation.invalidWithReason': { zh: '值无效（{reason}）', en: '{reason}' },
  'validation.schema.mqttUrl': { zh: '应为以 mqtt:// 或 mqtts:// 开头的 URL', en: 'must be an mqtt:// or mqtts:// URL' },
  'validation.schema.portFree': { zh: '端口应为 0（任选空闲端口）或 1-65535', en: 'port must be 0 (any free port) or 1-65535' },
  'validation.schema.portMax': { zh: '端口应不大于 65535', en: 'port must be at most 65535' },
  'validation.schema.mqttLoopback': { zh: '未加密的 MQTT 只监听 127.0.0.1；如需监听其他地址，请设置 mqtt.tls', en: 'plain MQTT listens on 127.0.0.1 only: set mqtt.tls to listen on another address' },
  'validation.schema.httpLoopback': { zh: '未加密的 HTTP 只监听 127.0.0.1；如需监听其他地址，请设置 http.tls', en: 'plain HTTP listens on 127.0.0.1 only: set http.tls to listen on another address' },
  'validation.schema.environmentVariable': { zh: '应为环境变量名', en: 'must be an environment variable name' },
  'validation.schema.issuerPrefix': { zh: '发卡机构前缀应为 2-16 位十六进制数字', en: 'issuer prefix must be 2-16 hex digits' },
  'validation.schema.localTime': { zh: '应为当地时间 HH:MM', en: 'must be a local time HH:MM' },
  'validation.schema.readerPattern': { zh: '不是有效的 /pattern/flags 正则表达式', en: 'not a valid /pattern/flags regular expression' },
  'validation.schema.terminalId': { zh: '终端编号应为 1-32 个字母、数字、"_" 或 "-"', en: 'terminal id must be 1-32 letters, digits, "_" or "-"' },
  'validation.schema.gpsdHost': { zh: '应为 127.0.0.1 或 ::1：只能连接本机上的 gpsd', en: 'must be 127.0.0.1 or ::1: gpsd is reached on this host only' },
  'validation.schema.typeCodesRepeat': { zh: '卡类型代码不能重复', en: 'card-type codes must not repeat' },
  'validation.schema.tcpPort': { zh: '应为 0-65535 的 TCP 端口号', en: 'must be a TCP port number from 0 to 65535' },
  'validation.schema.tcpPortWhole': { zh: '应为 0-65535 的整数 TCP 端口号', en: 'must be a whole TCP port number from 0 to 65535' },
  'validation.schema.signOffSeconds': { zh: '应为 3-600 的秒数', en: 'must be a number of seconds from 3 to 600' },
  'validation.schema.signOffSecondsWhole': { zh: '应为 3-600 的整数秒数', en: 'must be a whole number of seconds from 3 to 600' },
  'validation.schema.signOffSecondsMin': { zh: '应为 3-600 的秒数：2 秒内的第二次刷卡算作同一次出示', en: 'must be a number of seconds from 3 to 600: a second tap within 2 s counts as the same presentation' },
  'validation.schema.riderTapsWithoutShift': { zh: '应为 "accept" 或 "reject"', en: 'must be "accept" or "reject"' },
  'validation.schema.clockSeconds': { zh: '应为 5-3600 的秒数', en: 'must be a number of seconds from 5 to 3600' },
  'validation.schema.clockSecondsWhole': { zh: '应为 5-3600 的整数秒数', en: 'must be a whole number of seconds from 5 to 3600' },
  'validation.schema.clockSecondsMin': { zh: '应为 5-3600 的秒数：NMEA 语句最多比其所含时间晚约 1 秒到达', en: 'must be a number of seconds from 5 to 3600: NMEA sentences arrive up to about 1 s after their time' },
  'validation.schema.fixes': { zh: '应为 1-120 的定位次数', en: 'must be a number of fixes from 1 to 120' },
  'validation.schema.fixesWhole': { zh: '应为 1-120 的整数定位次数', en: 'must be a whole number of fixes from 1 to 120' },
  'validation.schema.graceMinutes': { zh: '应为 0-10080 的分钟数', en: 'must be a number of minutes from 0 to 10080' },
  'validation.schema.graceMinutesWhole': { zh: '应为 0-10080 的整数分钟数', en: 'must be a whole number of minutes from 0 to 10080' },
  'validation.schema.offlineHours': { zh: '应为 1-720 的小时数', en: 'must be a number of hours from 1 to 720' },
  'validation.schema.offlineHoursWhole': { zh: '应为 1-720 的整数小时数', en: 'must be a whole number of hours from 1 to 720' },
  'validation.schema.clockTime': { zh: '应为当地时刻 HH:MM（00:00-23:59）', en: 'expected a local time of day HH:MM (00:00-23:59)' },
  'validation.schema.periodRateOrAllowed': { zh: '时段必须设置 ratePercent 或 allowed，或两者都设置', en: 'a period must set ratePercent, allowed or both' },
  'validation.schema.periodEmpty': { zh: '时段的开始时间和结束时间不能相同', en: 'a period must not start and end at the same time' },
  'validation.schema.bandsOrder': { zh: 'bands 必须按 maxStops 从小到大排列', en: 'bands must be in increasing maxStops order' },
  'validation.schema.blacklistAsn': { zh: '应为 ASN 右侧 8 字节，即 16 位大写十六进制数字', en: 'expected the right-most 8 bytes of the ASN as 16 upper-case hex digits' },
  'validation.schema.chunkCounts': { zh: '各分块的条数之和必须等于 count', en: 'the chunk counts must add up to count' },
  'validation.schema.fullBlacklistForm': { zh: '完整黑名单须包含 entries 或 packed 之一，不能两者都有', en: 'a full blacklist carries either entries or packed, not both' },
  'validation.schema.keyId': { zh: '应为公钥 SHA-256 的前 16 位十六进制数字', en: 'expected the first 16 hex digits of the SHA-256 of the public key' },
  'validation.schema.signature': { zh: '应为 Base64 编码的 64 字节 Ed25519 签名', en: 'expected a 64-byte Ed25519 signature in base64' },
  'validation.params.versionNotPositive': { zh: 'version: 应为正整数，而不是 {version}', en: 'version: expected a positive integer, got {version}' },
  'validation.params.versionStored': { zh: 'version: {kind} 版本 {latest} 已存在；请使用 {next} 或更高的版本', en: 'version: {kind} version {latest} is already stored; use {next} or higher' },
  'validation.params.packedGiven': { zh: 'body.packed: 请给出 entries；后台会自行打包大型名单', en: 'body.packed: give the entries; the back office packs large lists itself' },
  'validation.params.asnNotKey': { zh: '{field}: {value} 不是 16 位十六进制数字（ASN 的右侧 8 字节）', en: '{field}: {value} is not 16 hex digits (the right-most 8 bytes of the ASN)' },
  'validation.params.asnAddedAndRemoved': { zh: 'ASN {asns} 同时被加入和移出', en: 'ASN {asns} is both added and removed' },
  'validation.params.noAsn': { zh: '没有要加入或移出的 ASN', en: 'no ASN to add or remove' },
  'validation.params.effectiveFromInvalid': { zh: 'effectiveFrom: {value} 不是带时区偏移的 ISO 8601 时间', en: 'effectiveFrom: {value} is not an ISO 8601 time with an offset' },
  'validation.params.effectiveFromStale': {
    zh: 'effectiveFrom: {value} 早于现在超过 {hours} 小时，终端会把该参数集当作过期而拒收',
    en: 'effectiveFrom: {value} is more than {hours} h in the past, so terminals would reject the set as stale',
  },
  'validation.params.noFullBlacklist': { zh: 'body.baseVersion: 尚未保存完整黑名单；请先发布完整名单', en: 'body.baseVersion: no full blacklist is stored yet; publish a full list first' },
  'validation.params.deltaBaseNotNewest': {
    zh: 'body.baseVersion: 增量名单只能基于最新的完整名单（版本 {full}），而不是 {base}',
    en: 'body.baseVersion: deltas apply to the newest full list, version {full}, not {base}',
  },
  'validation.params.deltaBaseNotBelow': { zh: 'body.baseVersion: {base} 不小于版本 {version}', en: 'body.baseVersion: {base} is not below version {version}' },
  'validation.keyFile.notJson': { zh: '不是有效的 JSON（{reason}）', en: 'not valid JSON ({reason})' },
  'validation.keyFile.syntaxError': { zh: '语法错误', en: 'syntax error' },
  'validation.keyFile.notArray': {
    zh: '文件应为 JSON 数组，每一项是含 issuerId、algorithm、tacMasterKeyHex 和可选 test 字段的对象',
    en: 'the file must contain a JSON array of entries {issuerId, algorithm, tacMasterKeyHex, test?}',
  },
  'validation.keyFile.entryNotObject': {
    zh: '第 {entry} 项应为含 issuerId、algorithm、tacMasterKeyHex 和可选 test 字段的对象',
    en: 'entry {entry} must be an object {issuerId, algorithm, tacMasterKeyHex, test?}',
  },
  'validation.keyFile.unknownFields': {
    zh: '第 {entry} 项：有未知字段（{names}）；可用的字段为 issuerId、algorithm、tacMasterKeyHex 和 test',
    en: 'entry {entry}: unknown field(s) {names}; the fields are issuerId, algorithm, tacMasterKeyHex and test',
  },
  'validation.keyFile.hiddenFieldName': { zh: '疑似密钥内容的字段名', en: '(a name that looks like key material)' },
  'validation.keyFile.fieldInvalid': { zh: '第 {entry} 项：{field} 无效', en: 'entry {entry}: {field} is invalid' },
  'validation.keyFile.fieldMissing': { zh: '第 {entry} 项：缺少 {field}，请补上，应为 {values}', en: 'entry {entry}: {field} is missing, so add it as {values}' },
  'validation.keyFile.fieldValues': { zh: '第 {entry} 项：{field} 应为 {values}', en: 'entry {entry}: {field} must be {values}' },
  'validation.keyFile.values.issuerId': { zh: '16 位十六进制数字（8 字节的发卡机构标识）', en: '16 hex digits (the 8-byte issuer id)' },
  'validation.keyFile.values.algorithm': { zh: '"des" 或 "sm4"', en: '"des" or "sm4"' },
  'validation.keyFile.values.tacMasterKeyHex': { zh: '32 位十六进制数字（16 字节的 TAC 主密钥）', en: '32 hex digits (the 16-byte TAC master key)' },
  'validation.keyFile.values.test': { zh: 'true 或 false', en: 'true or false' },
  'validation.keyFile.duplicate': { zh: '第 {entry} 项：发卡机构 {issuer} 的 {algorithm} 密钥重复', en: 'entry {entry}: second {algorithm} key for issuer {issuer}' },
  'validation.keyFile.testKeys': {
    zh: '发卡机构 {issuers} 的密钥是测试密钥，只有设置了 security.allowTestKeys 的测试环境才接受',
    en: 'test keys of issuers {issuers} are accepted only on a bench (security.allowTestKeys)',
  },
  'validation.gtfs.folderUnreadable': { zh: '无法读取文件夹：{message}', en: 'cannot read the folder: {message}' },
  'validation.gtfs.missingColumns': { zh: '{file}：缺少列 {columns}', en: '{file}: missing column(s) {columns}' },
  'validation.gtfs.csvInvalid': { zh: '{file}：CSV 格式无效（{message}）', en: '{file}: {message}' },
  'validation.gtfs.fileMissing': { zh: '{file}：缺少此文件，GTFS 数据必须包含它', en: '{file}: missing (a GTFS feed needs it)' },
  'validation.gtfs.noUsableTrip': { zh: '没有一个行程有两个或以上有效的停站时刻', en: 'no trip has two or more valid stop times' },
  'validation.gtfs.atLine': { zh: '{file} 第 {line} 行：{problem}', en: '{file} line {line}: {problem}' },
  'validation.gtfs.stopIdEmpty': { zh: 'stop_id 为空', en: 'stop_id is empty' },
  'validation.gtfs.stopCoordinates': { zh: '站点 {stop} 的坐标无效（"{lat}"，"{lon}"）', en: 'stop {stop} has invalid coordinates "{lat}", "{lon}"' },
  'validation.gtfs.routeIdEmpty': { zh: 'route_id 为空', en: 'route_id is empty' },
  'validation.gtfs.tripUnknownRoute': { zh: '行程 {trip} 所属的线路 "{route}" 不存在', en: 'trip {trip} names unknown route "{route}"' },
  'validation.gtfs.tripDirection': { zh: '行程 {trip} 的 direction_id 为 "{direction}"，应为 0 或 1', en: 'trip {trip} has direction_id "{direction}"; expected 0 or 1' },
  'validation.gtfs.stopTimeUnknownTrip': { zh: '停站时刻所属的行程 "{trip}" 不存在', en: 'stop time names unknown trip "{trip}"' },
  'validation.gtfs.stopTimeUnknownStop': { zh: '行程 {trip} 经停的站点 "{stop}" 不存在', en: 'trip {trip} names unknown stop "{stop}"' },
  'validation.gtfs.stopSequence': {
    zh: '行程 {trip} 的 stop_sequence "{value}" 无效，应为 0 到 4294967295 之间的整数',
    en: 'trip {trip} has invalid stop_sequence "{value}"; expected a whole number from 0 to 4294967295',
  },
  'validation.gtfs.stopTime': {
    zh: '行程 {trip} 的到站或离站时间无效（"{arrival}" / "{departure}"），应为 H:MM:SS 或 HH:MM:SS',
    en: 'trip {trip} has invalid time "{arrival}" / "{departure}"; expected H:MM:SS or HH:MM:SS',
  },
  'validation.gtfs.tooFewStopTimes': { zh: '行程 {trip} 的停站时刻少于两个，已略去', en: 'trip {trip} has fewer than two stop times and is left out' },
  'validation.gtfs.serviceDates': { zh: '运营日历 {service} 的日期无效，应为 YYYYMMDD', en: 'service {service} has invalid dates; expected YYYYMMDD' },
  'validation.gtfs.calendarDate': { zh: '运营日历 {service} 的例外日期无效', en: 'calendar date of service {service} is invalid' },
  'validation.gtfs.shapePoint': { zh: '线形 {shape} 中有无效的坐标点', en: 'shape {shape} has an invalid point' },
  'validation.gtfs.frequencyUnknownTrip': { zh: '发车间隔所属的行程 "{trip}" 不存在', en: 'frequency names unknown trip "{trip}"' },
  'validation.gtfs.frequencyInvalid': { zh: '行程 {trip} 的发车间隔无效', en: 'frequency of trip {trip} is invalid' },
} as const satisfies Record<string, CatalogueEntry>;

export type ValidationTextId = keyof typeof VALIDATION_TEXT;

/** Returns a validation message in the language, with its {name} placeholders filled from params. */
export function validationText(id: ValidationTextId, language: Language = DEFAULT_LANGUAGE, params: Record<string, string | number> = {}): string {
  return fillPlaceholders(VALIDATION_TEXT[id][language], params);
}
