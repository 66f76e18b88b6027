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
    canvas.setAttribute('aria-label', holder.dataset.label + ' (the table below has the figures)')
    holder.appendChild(canvas)
    const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches
    data.datasets.forEach(function (dataset, index) {
      dataset.backgroundColor = COLOURS[index % COLOURS.length]
      dataset.borderColor = COLOURS[index % COLOURS.length]
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

  const print = document.querySelector('[data-print]')
  if (print) {
    print.hidden = false
    print.addEventListener('click', function () { window.print() })
    const note = document.querySelector('[data-print-note]')
    if (note) note.hidden = true
  }
})()
