// The dashboard's few behaviours, here instead of inline handlers so that the pages' Content-Security-Policy
// can forbid inline script and style (Infrastructure/Http/SecurityHeaders.cs).
//   <form data-confirm="Question?">   asks before submitting
//   <select data-autosubmit>          submits its form when changed (the workspace switcher)
//   <button data-copy="element-id">   copies that element's text
//   <span data-width="42.5">          sets its width in percent (bars and meters)
(function () {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  document.addEventListener('change', (event) => {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute('data-autosubmit') && select.form) {
      select.form.requestSubmit();
    }
  });
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
    const source = button && document.getElementById(button.dataset.copy);
    if (source) {
      navigator.clipboard.writeText(source.textContent);
    }
  });
  const widths = () => document.querySelectorAll('[data-width]').forEach((element) => {
    element.style.width = Math.max(0, Math.min(100, Number(element.dataset.width) || 0)) + '%';
  });
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', widths);
  } else {
    widths();
  }
})();
