// Small live line charts on a plain canvas: a rolling window of samples, the newest on the right.
// They show sync latency and queue depth (counts and milliseconds, never money).

export class Sparkline {
  constructor(canvas, { capacity = 60, colour = '#0a84ff' } = {}) {
    this.canvas = canvas;
    this.capacity = capacity;
    this.colour = colour;
    this.samples = [];
  }

  push(value) {
    this.samples.push(value);
    if (this.samples.length > this.capacity) this.samples.shift();
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio)) || canvas.width;
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio)) || canvas.height;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = canvas.getContext('2d');
    context.clearRect(0, 0, width, height);
    if (this.samples.length === 0) return;
    const top = Math.max(1, ...this.samples);
    const pad = 6 * ratio;
    const step = (width - 2 * pad) / Math.max(1, this.capacity - 1);
    const offset = this.capacity - this.samples.length;
    const y = (value) => height - pad - (value / top) * (height - 2 * pad);

    context.strokeStyle = this.colour;
    context.lineWidth = 2 * ratio;
    context.lineJoin = 'round';
    context.beginPath();
    this.samples.forEach((value, i) => {
      const x = pad + (offset + i) * step;
      if (i === 0) context.moveTo(x, y(value));
      else context.lineTo(x, y(value));
    });
    context.stroke();

    context.fillStyle = this.colour;
    const last = this.samples.length - 1;
    context.beginPath();
    context.arc(pad + (offset + last) * step, y(this.samples[last]), 3 * ratio, 0, 2 * Math.PI);
    context.fill();

    context.fillStyle = getComputedStyle(canvas).color;
    context.font = `${11 * ratio}px system-ui, sans-serif`;
    context.fillText(String(top), pad, pad + 10 * ratio);
  }
}
