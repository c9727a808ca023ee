// The kiosk's few behaviours: back to the start after a minute without a touch, and the PIN
// typed on the screen's keys, a keyboard or a physical numeric keypad (Numpad keys, Enter).
(() => {
  "use strict";
  const idle = Number(document.body.dataset.idle || 0);
  if (idle > 0) {
    let timer = 0;
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { window.location.href = "/?idle=1"; }, idle);
    };
    for (const kind of ["pointerdown", "keydown", "touchstart", "input", "wheel"]) {
      window.addEventListener(kind, rearm, { passive: true });
    }
    rearm();
  }
  const pin = document.getElementById("pin");
  if (!pin) return;
  const put = (digit) => {
    if (pin.value.length < 4) pin.value += digit;
    pin.focus();
  };
  pin.addEventListener("input", () => { pin.value = pin.value.replace(/[^0-9]/g, "").slice(0, 4); });
  for (const key of document.querySelectorAll("[data-key]")) {
    key.addEventListener("click", () => put(key.dataset.key));
  }
  document.getElementById("clear").addEventListener("click", () => { pin.value = ""; pin.focus(); });
  window.addEventListener("keydown", (event) => {
    const numpad = /^Numpad([0-9])$/.exec(event.code);
    if (numpad) {  // with Num Lock off a keypad sends arrows: the digit is meant all the same
      event.preventDefault();
      put(numpad[1]);
    } else if (event.code === "NumpadEnter" || (event.key === "Enter" && event.target === document.body)) {
      event.preventDefault();
      pin.form.requestSubmit();
    } else if ((event.code === "NumpadDecimal" || event.key === "Backspace") && event.target !== pin) {
      event.preventDefault();
      pin.value = pin.value.slice(0, -1);
    } else if (/^[0-9]$/.test(event.key) && event.target !== pin) {
      event.preventDefault();
      put(event.key);
    }
  });
})();
