// The emulator's local console: streams, a stream's fragment timeline, HLS playback (live or a replayed time
// range, with hls.js) and the last PutMedia acks. It calls the emulator's console API (/console/api/…).
// window.kvsConsole reports what the player does (for tests): mode, currentTime, firstTime, errors.
;(() => {
  const POLL_MS = 2000
  const $ = (selector) => document.querySelector(selector)
  const report = { mode: '', firstTime: -1, currentTime: 0, fragmentsLoaded: 0, errors: [] }
  window.kvsConsole = report
  let selected = ''
  let hls
  let lastFragments = []

  const time = (ms) =>
    ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 23)
  const cell = (text) => {
    const td = document.createElement('td')
    td.textContent = text
    return td
  }
  const row = (values) => {
    const tr = document.createElement('tr')
    for (const value of values) tr.append(cell(String(value)))
    return tr
  }

  async function api(path) {
    const response = await fetch(`/console/api/${path}`)
    const body = await response.json()
    if (!response.ok)
      throw new Error(
        `${(response.headers.get('x-amzn-ErrorType') ?? String(response.status)).split(':')[0]}: ${body.Message}`,
      )
    return body
  }

  function setStatus(text) {
    $('#status').textContent = text
  }

  async function refreshStreams() {
    const { streams } = await api('streams')
    const body = $('#streams tbody')
    body.replaceChildren(
      ...streams.map((stream) => {
        const tr = row([
          stream.name,
          stream.status,
          stream.fragments,
          time(stream.lastServerTimestampMs),
          stream.putting ? 'putting' : '-',
        ])
        tr.dataset.stream = stream.name
        if (stream.name === selected) tr.classList.add('selected')
        tr.addEventListener('click', () => select(stream.name))
        return tr
      }),
    )
    if (selected === '' && streams.length > 0) select(streams[0].name)
    if (streams.length === 0) setStatus('no streams yet: create one and put media')
  }

  async function refreshStream() {
    if (selected === '') return
    const stream = encodeURIComponent(selected)
    const [{ fragments, total }, { acks }] = await Promise.all([
      api(`fragments?stream=${stream}`),
      api(`acks?stream=${stream}`),
    ])
    lastFragments = fragments
    $('#timeline-count').textContent = `(${total} fragments)`
    $('#timeline tbody').replaceChildren(
      ...fragments.map((fragment, index) =>
        row([
          total - fragments.length + index,
          fragment.fragmentNumber,
          time(fragment.producerTimestampMs),
          time(fragment.serverTimestampMs),
          `${(fragment.durationMs / 1000).toFixed(2)} s`,
          fragment.sizeBytes,
          fragment.tracks.join(','),
        ]),
      ),
    )
    const bar = $('#timeline-bar')
    const first = fragments[0]
    const last = fragments.at(-1)
    if (first !== undefined) {
      const start = first.serverTimestampMs
      const span = Math.max(1, last.serverTimestampMs + last.durationMs - start)
      bar.replaceChildren(
        ...fragments.map((fragment) => {
          const span1 = document.createElement('span')
          span1.style.left = `${((fragment.serverTimestampMs - start) / span) * 100}%`
          span1.style.width = `calc(${Math.max(0.2, (fragment.durationMs / span) * 100)}% - 1px)`
          span1.title = `${fragment.fragmentNumber} at ${time(fragment.serverTimestampMs)}`
          return span1
        }),
      )
      if ($('#from').value === '') $('#from').value = time(first.serverTimestampMs)
      if ($('#to').value === '') $('#to').value = time(last.serverTimestampMs + last.durationMs)
    } else bar.replaceChildren()
    $('#acks tbody').replaceChildren(
      ...acks
        .slice()
        .reverse()
        .map((ack) => {
          const tr = row([
            time(ack.timeMs),
            ack.connection,
            ack.eventType,
            ack.fragmentNumber ?? '-',
            ack.fragmentTimecode ?? '-',
            ack.errorId === undefined ? '' : `${ack.errorId} ${ack.errorCode ?? ''}`,
          ])
          if (ack.eventType === 'ERROR') tr.classList.add('error')
          return tr
        }),
    )
  }

  function select(name) {
    if (name === selected) return
    selected = name
    $('#stream-panel').hidden = false
    $('#stream-name').textContent = name
    $('#from').value = ''
    $('#to').value = ''
    for (const tr of document.querySelectorAll('#streams tbody tr'))
      tr.classList.toggle('selected', tr.dataset.stream === name)
    stop()
    refreshStream().catch(showError)
  }

  function stop() {
    if (hls !== undefined) hls.destroy()
    hls = undefined
    report.mode = ''
    report.firstTime = -1
    report.currentTime = 0
    $('#player-status').textContent = 'not playing'
  }

  function play(url, mode) {
    stop()
    report.mode = mode
    const video = $('#video')
    hls = new Hls({ lowLatencyMode: false })
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      video.play().catch((error) => showError(error))
    })
    hls.on(Hls.Events.FRAG_LOADED, () => {
      report.fragmentsLoaded++
    })
    hls.on(Hls.Events.ERROR, (_event, data) => {
      const text = `${data.type}/${data.details}${data.fatal ? ' (fatal)' : ''}`
      report.errors.push(text)
      if (data.fatal) $('#player-status').textContent = `hls.js error: ${text}`
    })
    hls.loadSource(url)
    hls.attachMedia(video)
    $('#player-status').textContent = `${mode}: loading`
  }

  function parseTime(text) {
    const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.trim().replace(' ', 'T')}Z`)
    if (Number.isNaN(ms)) throw new Error(`not a time: ${text}`)
    return ms
  }

  function showError(error) {
    setStatus(error instanceof Error ? error.message : String(error))
  }

  $('#video').addEventListener('timeupdate', () => {
    const video = $('#video')
    report.currentTime = video.currentTime
    if (report.firstTime < 0 && video.currentTime > 0) report.firstTime = video.currentTime
    if (report.mode !== '')
      $('#player-status').textContent = `${report.mode}: playing at ${video.currentTime.toFixed(1)} s`
  })
  $('#live').addEventListener('click', async () => {
    try {
      const { url } = await api(`hls?stream=${encodeURIComponent(selected)}&mode=LIVE`)
      play(url, 'LIVE')
    } catch (error) {
      showError(error)
    }
  })
  $('#replay').addEventListener('click', async () => {
    try {
      const start = parseTime($('#from').value)
      // SERVER_TIMESTAMP ranges must end in the past.
      const end = Math.min(parseTime($('#to').value), Date.now() - 1)
      const { url } = await api(
        `hls?stream=${encodeURIComponent(selected)}&mode=ON_DEMAND&start=${start}&end=${end}`,
      )
      play(url, 'ON_DEMAND')
    } catch (error) {
      showError(error)
    }
  })

  async function tick() {
    try {
      await refreshStreams()
      await refreshStream()
      if (lastFragments !== undefined) setStatus(`updated ${time(Date.now())}`)
    } catch (error) {
      showError(error)
    }
    setTimeout(tick, POLL_MS)
  }
  tick()
})()
