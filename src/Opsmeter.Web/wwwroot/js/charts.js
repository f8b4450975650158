// Draws the charts whose data a page embeds as <script type="application/json" data-chart="…">.
// The table next to each chart holds the same figures, for screen readers and for when scripts are off.
(function () {
  const money = (v) => '$' + (v >= 1 ? v.toFixed(2) : v.toPrecision(2));
  document.querySelectorAll('script[data-chart]').forEach((source) => {
    const data = JSON.parse(source.textContent);
    const canvas = document.getElementById(source.dataset.chart);
    if (!canvas || typeof Chart === 'undefined') return;
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: data.map((d) => d.key),
        datasets: [{ label: 'Spend (USD)', data: data.map((d) => d.costUsd), backgroundColor: '#2456d6', borderRadius: 3 }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => money(c.parsed.y) } } },
        scales: { y: { beginAtZero: true, ticks: { callback: money } }, x: { grid: { display: false } } },
      },
    });
  });
})();
