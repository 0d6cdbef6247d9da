/**
 * Style of the driver's page. Sizes are in viewport units so the same layout fills 800×480 and
 * 1024×600 without scrolling; text is white or black on solid colours for glare in a moving bus.
 */
export const DRIVER_PAGE_CSS = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; overflow: hidden; background: #000; color: #fff;
  font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif; }
button, input { font: inherit; }
button { border: 0.4vh solid #fff; border-radius: 1vh; background: #1f3a93; color: #fff; padding: 0.6vh 1.6vw; cursor: pointer; }
button.danger { background: #8b0000; }
button.armed { background: #ffb300; color: #000; border-color: #000; }
.app { display: grid; grid-template-rows: 13vh minmax(0, 1fr) auto; grid-template-columns: minmax(0, 1fr); width: 100vw; height: 100vh; }
header { display: flex; align-items: center; gap: 1.5vw; padding: 0 1.5vw; background: #111; border-bottom: 0.4vh solid #444; font-size: 4.4vh; white-space: nowrap; }
header .route { font-size: 3.4vh; font-weight: 700; white-space: pre; line-height: 1.1; }
header .route::first-line { font-size: 6.4vh; }
header .spacer { flex: 1 1 0; }
header .clock { font-size: 4.2vh; }
header .driver { font-size: 3.4vh; white-space: pre; line-height: 1.25; }
header > * { flex-shrink: 0; }
header .driver { flex-shrink: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
header button { font-size: 3.6vh; }
.chip { padding: 0.3vh 1vw; border-radius: 1vh; font-size: 3.4vh; font-weight: 700; }
.chip.online { background: #0a7d32; }
.chip.offline { background: #ffb300; color: #000; }
.view { display: none; min-height: 0; }
.view.shown { display: grid; }
#view-duty { grid-template-columns: 3fr 2fr; gap: 1vw; padding: 1vh 1vw; min-height: 0; }
.panel { border-radius: 1.2vh; padding: 1.2vh 1.4vw; background: #1a1a1a; min-height: 0; overflow: hidden; }
.label { font-size: 3.2vh; color: #ddd; }
.tap { display: flex; flex-direction: column; justify-content: center; gap: 0.6vh; }
.tap.ok { background: #0a7d32; }
.tap.refused, .tap.failed { background: #b00020; }
.tap.in-doubt, .tap.armed { background: #ffb300; color: #000; }
.tap.in-doubt .label, .tap.armed .label { color: #000; }
.tap .prompt { font-size: 10vh; font-weight: 700; line-height: 1.1; }
.tap .card-type { font-size: 6vh; font-weight: 700; }
.tap .money { font-size: 5.6vh; }
.side { display: grid; grid-template-rows: auto 1fr; gap: 1vh; min-height: 0; }
.stop { font-size: 5.4vh; font-weight: 700; line-height: 1.15; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.stop.next { color: #ffd54f; }
.counters { display: grid; grid-template-columns: 1fr auto; column-gap: 1vw; font-size: 4.2vh; align-content: start; }
.counters .value { text-align: right; font-weight: 700; }
.by-type { font-size: 3.2vh; color: #ddd; grid-column: 1 / 3; }
footer { min-height: 7vh; }
.alert { font-size: 4.2vh; font-weight: 700; padding: 0.8vh 1.5vw; }
.alert.critical { background: #b00020; }
.alert.warning { background: #ffb300; color: #000; }
.alert.info { background: #1f3a93; }
.status-line { font-size: 3vh; color: #ccc; padding: 1vh 1.5vw; display: flex; gap: 3vw; }
.form-view { place-content: center; justify-items: center; gap: 2.4vh; text-align: center; padding: 2vh 2vw; }
.form-view h1 { font-size: 6.4vh; margin: 0; }
.form-view input { font-size: 7vh; width: 40vw; text-align: center; border-radius: 1vh; border: 0.4vh solid #fff; background: #fff; color: #000; }
.form-view button { font-size: 5.6vh; padding: 1vh 3vw; }
.choices { display: flex; flex-wrap: wrap; gap: 1.5vw; justify-content: center; }
.choices button { font-size: 6.4vh; min-width: 30vw; padding: 1.6vh 3vw; }
.error { font-size: 4.2vh; color: #ff8a80; min-height: 5vh; }
.summary { display: grid; grid-template-columns: auto auto; gap: 0.6vh 3vw; font-size: 4.4vh; text-align: left; }
.summary .value { font-weight: 700; text-align: right; }
.banner { position: fixed; left: 0; right: 0; bottom: 0; background: #ff6f00; color: #000; font-size: 4.4vh; font-weight: 700; padding: 1vh 1.5vw; display: none; }
.banner.shown { display: block; }
`;
