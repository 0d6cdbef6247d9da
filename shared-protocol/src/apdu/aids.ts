import { fromHex } from '../bytes.js';

/** Application identifiers seen on the city's cards and PSAMs. */
export const AID = {
  /** "2PAY.SYS.DDF01", the contactless directory (PPSE). */
  ppse: fromHex('325041592E5359532E4444463031'),
  /** "1PAY.SYS.DDF01", the contact-style directory (PSE). */
  pse: fromHex('315041592E5359532E4444463031'),
  /** T-Union (JT/T 978) e-purse application. Phone applets use longer instance AIDs with this prefix. */
  tunionEp: fromHex('A000000632010105'),
  /** T-Union electronic cash application; shares balance and transit files with the EP. */
  tunionEc: fromHex('A000000632010106'),
  /** MOHURD "city union" purse ADF. */
  mohurdEp: fromHex('A00000000386980701'),
  /** T-Union PSAM DF ("MOT.CPSAM01" after the RID). */
  tunionPsamDf: fromHex('A0000006324D4F542E435053414D3031'),
} as const;

/** File identifier of the MOHURD PSAM DF. */
export const MOHURD_PSAM_DF_FID = fromHex('1001');
