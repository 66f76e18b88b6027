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
    // A week or month not yet over ("to date") counts only the days so far: it is a
    // hollow point of its own, not joined to the line, so that it does not read as
    // a fall (a bar of it is hollow).
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
          dataset.pointBorderWidth = dataset.data.map(function (value, i) {
            return toDate.indexOf(i) >= 0 ? 2 : 1
          })
          dataset.segment = {
            borderColor: function (context) {
              return toDate.indexOf(context.p1DataIndex) >= 0 ? 'rgba(0, 0, 0, 0)' : undefined
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
    // Counts get whole-number ticks (no "2.5 members"); a chart with any fraction (a
    // rate or percentage), or marked "whole": false, keeps its decimals.
    const whole = data.whole !== undefined
      ? data.whole
      : data.datasets.every(function (dataset) {
        return dataset.data.every(function (value) { return value === null || Number.isInteger(value) })
      })
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: data.type,
      data: { labels: data.labels, datasets: data.datasets },
      options: {
        animation: reduceMotion ? false : undefined,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: whole ? { precision: 0 } : {} } }
      }
    })
  }

  if (window.Chart) {
    document.querySelectorAll('[data-chart]').forEach(draw)
  }

  // The period form: each kind's radio reveals its menu (or the two dates) and hides
  // the others. The page hides the unchosen ones only when NHS.UK frontend's script
  // has run (its "supported" class); until then, or without it, every menu shows.
  const reveals = Array.prototype.slice.call(document.querySelectorAll('input[data-reveals]'))
  function showChosen () {
    reveals.forEach(function (radio) {
      const target = document.getElementById(radio.dataset.reveals)
      if (target) target.classList.toggle('nhsuk-radios__conditional--hidden', !radio.checked)
    })
  }
  // No aria-controls: NHS.UK frontend's script would take these radios as its own
  // and set aria-expanded on them. Each menu follows its radio in the page order.
  reveals.forEach(function (radio) {
    radio.addEventListener('change', showChosen)
  })
  showChosen()

  const print = document.querySelector('[data-print]')
  if (print) {
    print.hidden = false
    print.addEventListener('click', function () { window.print() })
    const note = document.querySelector('[data-print-note]')
    if (note) note.hidden = true
  }
})()
