// Progressive enhancement for Engage pages: NHS.UK components and the session time-out warning.
// Every page works without this file.
// 'nhsuk-frontend' is mapped to its fingerprinted address by the page's import map.
import { initAll } from 'nhsuk-frontend'

initAll()

function startSessionWarning (panel) {
  const statusUrl = panel.dataset.statusUrl
  const warningSeconds = Number(panel.dataset.warningSeconds)
  let deadline = Date.now() + Number(panel.dataset.secondsLeft) * 1000

  async function refresh () {
    try {
      const response = await fetch(statusUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      const status = await response.json()
      if (!status.signed_in) {
        window.location.reload()
        return
      }
      deadline = Date.now() + status.seconds_left * 1000
    } catch (error) {
      // Offline or server busy: keep the deadline we had.
    }
  }

  async function tick () {
    const left = (deadline - Date.now()) / 1000
    if (left <= warningSeconds && panel.hidden) {
      await refresh() // another tab may have kept the session alive
      if ((deadline - Date.now()) / 1000 <= warningSeconds) {
        panel.hidden = false
        panel.querySelector('button').focus()
      }
    } else if (left <= 0) {
      window.location.reload()
      return
    }
    window.setTimeout(tick, 5000)
  }

  panel.querySelector('form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const form = event.target
    const response = await fetch(form.action, {
      method: 'POST', body: new FormData(form), credentials: 'same-origin', headers: { Accept: 'application/json' }
    })
    if (response.ok) {
      const status = await response.json()
      deadline = Date.now() + status.seconds_left * 1000
      panel.hidden = true
    } else {
      form.submit()
    }
  })
  window.setTimeout(tick, 5000)
}

const panel = document.getElementById('session-timeout')
if (panel) startSessionWarning(panel)

// A mailing's sending progress: fetch the page again every few seconds and put its
// figures in place (without JavaScript the page reloads itself). Once the mailing is
// no longer being sent, reload once for its buttons.
function followProgress (figures) {
  const every = Number(figures.dataset.refreshSeconds) * 1000
  async function update () {
    try {
      const response = await fetch(window.location.href, { credentials: 'same-origin' })
      if (response.ok) {
        const page = new DOMParser().parseFromString(await response.text(), 'text/html')
        const fresh = page.getElementById(figures.id)
        if (fresh && !fresh.hasAttribute('data-refresh-seconds')) {
          window.location.reload()
          return
        }
        if (fresh) figures.replaceChildren(...fresh.childNodes)
      }
    } catch (error) {
      // Offline or server busy: try again next time.
    }
    window.setTimeout(update, every)
  }
  window.setTimeout(update, every)
}

const figures = document.getElementById('send-figures')
if (figures && figures.dataset.refreshSeconds) followProgress(figures)
