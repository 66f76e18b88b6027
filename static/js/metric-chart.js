// Draws a metric's history with Chart.js from the JSON island beside the data table.
// Progressive enhancement: without JavaScript the table is the whole story.
(function () {
  "use strict";
  const island = document.getElementById("metric-chart-data");
  const canvas = document.getElementById("metric-chart");
  if (!island || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  const data = JSON.parse(island.textContent);
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const datasets = [{
    label: data.label,
    data: data.values,
    borderColor: "#005eb8",
    backgroundColor: "#005eb8",
    tension: 0,
  }];
  // Whole-number ticks when every value is a whole number (counts: no "2.5 readers");
  // a metric with fractions (a rate, an average) keeps its decimals.
  const whole = data.values.every(function (value) { return Number.isInteger(value); });
  canvas.hidden = false;
  new window.Chart(canvas, {
    type: data.kind === "flow" ? "bar" : "line",
    data: { labels: data.labels || data.dates, datasets: datasets },
    options: {
      animation: reduceMotion ? false : undefined,
      responsive: true,
      plugins: { legend: { display: true } },
      scales: { y: { beginAtZero: true, ticks: whole ? { precision: 0 } : {} } },
    },
  });
})();
