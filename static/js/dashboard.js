// Dashboard and board report enhancement: draws each table's chart with Chart.js and
// turns on the Print button. The tables are always on the page; without this file
// (or without Chart.js) nothing is lost.
(function () {
  'use strict'

  // NHS identity colours: blue, dark grey, warm yellow, dark pink, green, purple.
  const COLOURS = ['#005eb8', '#425563', '#ffb81c', '#ae2573', '#007f3b', '#330072']

  function draw (holder) {
    let data
    try {
      data = JSON.parse(holder.dataset.chart)
    } catch (error) {
      return
    }
    const canvas = document.createElement('canvas')
    canvas.setAttribute('role', 'img')
    // A week or month not yet over ("to date") counts only the days so far: its point
    // is hollow and the line into it dashed, so that it does not read as a fall.
    const toDate = data.to_date || []
    const partNote = toDate.length ? '; its last point is to date, the days so far' : ''
    canvas.setAttribute('aria-label', holder.dataset.label + partNote + ' (the table below has the figures)')
    holder.appendChild(canvas)
    const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches
    data.datasets.forEach(function (dataset, index) {
      const colour = COLOURS[index % COLOURS.length]
      dataset.backgroundColor = colour
      dataset.borderColor = colour
      if (toDate.length) {
        if (data.type === 'line') {
          dataset.pointBackgroundColor = dataset.data.map(function (value, i) {
            return toDate.indexOf(i) >= 0 ? '#ffffff' : colour
          })
          dataset.pointRadius = dataset.data.map(function (value, i) {
            return toDate.indexOf(i) >= 0 ? 5 : 3
          })
          dataset.segment = {
            borderDash: function (context) {
              return toDate.indexOf(context.p1DataIndex) >= 0 ? [6, 4] : undefined
            }
          }
        } else {
          dataset.backgroundColor = dataset.data.map(function (value, i) {
            return toDate.indexOf(i) >= 0 ? '#ffffff' : colour
          })
          dataset.borderWidth = 2
        }
      }
    })
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: data.type,
      data: { labels: data.labels, datasets: data.datasets },
      options: {
        animation: reduceMotion ? false : undefined,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    })
  }

  if (window.Chart) {
    document.querySelectorAll('[data-chart]').forEach(draw)
  }

  const print = document.querySelector('[data-print]')
  if (print) {
    print.hidden = false
    print.addEventListener('click', function () { window.print() })
    const note = document.querySelector('[data-print-note]')
    if (note) note.hidden = true
  }
})()
