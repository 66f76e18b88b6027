// Survey results charts: progressive enhancement with Chart.js (static/vendor/chartjs).
// Each chart's data is JSON in a data-chart attribute; the same figures are always in
// the table next to it, so the chart is hidden from screen readers. Labels are drawn
// on the canvas as text, never as HTML.
const Chart = window.Chart

function drawChart (box) {
  const data = JSON.parse(box.dataset.chart)
  if (!data || !Array.isArray(data.labels)) return
  const canvas = document.createElement('canvas')
  canvas.setAttribute('role', 'img')
  canvas.setAttribute('aria-label', box.dataset.chartLabel || 'Chart of the table below')
  box.appendChild(canvas)
  box.classList.add('engage-chart--drawn')
  const line = box.dataset.chartKind === 'line'
  // eslint-disable-next-line no-new
  new Chart(canvas, {
    type: line ? 'line' : 'bar',
    data: {
      labels: data.labels,
      datasets: [{ label: data.title, data: data.values, backgroundColor: '#005eb8', borderColor: '#005eb8' }]
    },
    options: {
      indexAxis: line ? 'x' : 'y',
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
      // Counts of answers: whole-number ticks on the value axis.
      scales: {
        x: { beginAtZero: true, ticks: line ? {} : { precision: 0 } },
        y: { beginAtZero: true, ticks: line ? { precision: 0 } : {} }
      }
    }
  })
}

if (Chart) {
  document.querySelectorAll('.engage-chart[data-chart]').forEach(drawChart)
}
