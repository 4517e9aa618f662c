/*
 * The "R environment" side panel: every object of R's global environment in
 * the active notebook's kernel (and the Python names R sees as py$), as
 * RStudio's Environment pane lists them, kept live by the kernel's updates
 * over one comm per kernel (rmagic_ext/environment.py holds the protocol).
 * Opening an object shows a table page by page, a function's source, str()
 * of a list, or a drawn plot, in the main area.
 */

import { Clipboard, MainAreaWidget } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

export const TARGET = 'rmagic_ext.environment';
export const PANEL_ID = 'rmagic-ext-r-environment';
const PAGE_ROWS = 100;
const LOADED = "'rmagic_ext' in get_ipython().extension_manager.loaded";

export const rIcon = new LabIcon({
  name: 'rmagic-ext:r-environment',
  svgstr: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">' +
    '<text class="jp-icon3" fill="#616161" x="12" y="17" font-size="15" font-weight="bold" ' +
    'font-family="sans-serif" text-anchor="middle">R</text></svg>'
});

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function button(label, title, className, onClick) {
  const node = element('button', `rmagic-ext-action ${className}`, label);
  node.title = title;
  node.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return node;
}

export function humanSize(bytes) {
  if (bytes === null || bytes === undefined) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/*
 * One kernel's side of the conversation: its comm, what it listed, and the
 * requests waiting for their replies. Made once per kernel connection; a
 * restarted kernel comes back through the same connection and is asked again.
 */
class KernelLink {
  constructor(kernel, onChange) {
    this.kernel = kernel;
    this.onChange = onChange;
    this.comm = null;
    this.state = 'asking';
    this.r = new Map();
    this.python = new Map();
    this.rStarted = false;
    this.pending = new Map();
    this.lastReplyBytes = 0;
    this.nextRequest = 1;
    kernel.registerCommTarget(TARGET, comm => this.use(comm, true));
    kernel.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting') {
        this.reset('asking');
      } else if (status === 'idle' && this.state === 'asking') {
        this.probe();
      }
    });
    this.probe();
  }

  reset(state) {
    this.comm = null;
    this.state = state;
    this.r.clear();
    this.python.clear();
    for (const reject of this.pending.values()) {
      reject.reject(new Error('the kernel restarted'));
    }
    this.pending.clear();
    this.onChange();
  }

  /* Whether the extension is loaded in the kernel (a page opened on a
   * running kernel); the kernel announces itself when it loads later. */
  async probe() {
    this.state = 'probing';
    try {
      const future = this.kernel.requestExecute({
        code: '', silent: true, store_history: false, user_expressions: { loaded: LOADED }
      });
      const reply = await future.done;
      const answer = reply.content.user_expressions && reply.content.user_expressions.loaded;
      const loaded = answer && answer.status === 'ok' && answer.data['text/plain'] === 'True';
      if (this.comm) {
        return;
      }
      if (loaded) {
        this.use(this.kernel.createComm(TARGET), false);
      } else {
        this.state = 'not-loaded';
        this.onChange();
      }
    } catch (error) {
      this.state = 'asking';
    }
  }

  use(comm, announced) {
    this.comm = comm;
    this.state = 'connected';
    comm.onMsg = msg => this.receive(msg);
    comm.onClose = () => {
      if (this.comm === comm) {
        this.reset('not-loaded');
      }
    };
    if (announced) {
      comm.send({ type: 'subscribe' });
    } else {
      comm.open({});
    }
  }

  receive(msg) {
    const data = msg.content.data;
    if (data.request !== undefined && data.request !== null && this.pending.has(data.request)) {
      this.lastReplyBytes = new TextEncoder().encode(JSON.stringify(msg.content)).length;
      const { resolve, reject } = this.pending.get(data.request);
      this.pending.delete(data.request);
      if (data.type === 'error') {
        reject(new Error(data.message));
      } else {
        resolve({ ...data, bytes: this.lastReplyBytes });
      }
      return;
    }
    if (data.type === 'snapshot') {
      this.r = new Map(data.r.map(row => [row.name, row]));
      this.python = new Map(data.python.map(row => [row.name, row]));
      this.rStarted = data.r_started;
    } else if (data.type === 'update') {
      for (const [origin, rows] of [['r', this.r], ['python', this.python]]) {
        const part = data[origin];
        if (part) {
          part.removed.forEach(name => rows.delete(name));
          part.changed.forEach(row => rows.set(row.name, row));
        }
      }
      this.rStarted = data.r_started;
    }
    this.onChange();
  }

  request(data) {
    if (!this.comm) {
      return Promise.reject(new Error('rmagic_ext is not loaded in this kernel'));
    }
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(request, { resolve, reject });
      this.comm.send({ ...data, request });
    });
  }
}

/* The side panel: the rows of the active notebook's kernel. */
export class EnvironmentPanel extends Widget {
  constructor(app, notebooks) {
    super();
    this.app = app;
    this.notebooks = notebooks;
    this.id = PANEL_ID;
    this.title.icon = rIcon;
    this.title.caption = 'R environment';
    this.addClass('rmagic-ext-EnvironmentPanel');
    this.links = new WeakMap();
    this.link = null;
    this.viewers = 0;

    const header = element('div', 'rmagic-ext-env-header');
    header.appendChild(element('h2', 'rmagic-ext-env-title', 'R environment'));
    this.filter = element('input', 'rmagic-ext-env-filter');
    this.filter.type = 'search';
    this.filter.placeholder = 'Filter by name';
    this.filter.addEventListener('input', () => this.render());
    const toggle = element('label', 'rmagic-ext-env-hidden-toggle');
    this.showHidden = element('input');
    this.showHidden.type = 'checkbox';
    this.showHidden.addEventListener('change', () => this.render());
    toggle.append(this.showHidden, ' hidden (.names)');
    header.append(this.filter, toggle);
    this.status = element('div', 'rmagic-ext-env-status');
    this.message = element('div', 'rmagic-ext-env-message');
    this.table = element('table', 'rmagic-ext-env-table');
    this.body = element('tbody');
    this.table.append(this.body);
    this.node.append(header, this.status, this.message, this.table);

    notebooks.currentChanged.connect(() => this.follow());
    this.follow();
  }

  /* Show the active notebook's kernel, following its kernel changes. */
  follow() {
    const panel = this.notebooks.currentWidget;
    const context = panel ? panel.sessionContext : null;
    if (context && !this.links.has(context)) {
      this.links.set(context, null);
      const connect = () => {
        const kernel = context.session && context.session.kernel;
        const known = this.links.get(context);
        if (known && known.kernel === kernel) {
          return;  // ready and kernelChanged both tell of the first kernel
        }
        const link = kernel ? new KernelLink(kernel, () => this.render()) : null;
        this.links.set(context, link);
        if (this.context === context) {
          this.link = link;
          this.render();
        }
      };
      context.kernelChanged.connect(connect);
      context.ready.then(connect);
    }
    this.context = context;
    this.link = context ? this.links.get(context) : null;
    this.render();
  }

  say(text) {
    this.message.textContent = text;
  }

  render() {
    const link = this.link;
    const states = {
      asking: 'Waiting for the kernel…', probing: 'Waiting for the kernel…',
      'not-loaded': 'rmagic_ext is not loaded in this kernel: run %load_ext rmagic_ext',
      connected: link && !link.rStarted ? 'R starts with the first R cell.' : ''
    };
    this.status.textContent = !this.context ? 'Open a notebook to see its R objects.'
      : !link ? 'No kernel.' : states[link.state] || '';
    this.body.replaceChildren();
    if (!link || link.state !== 'connected') {
      return;
    }
    const wanted = this.filter.value.trim().toLowerCase();
    const keep = name => (this.showHidden.checked || !name.startsWith('.')) &&
      (!wanted || name.toLowerCase().includes(wanted));
    const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const rRows = [...link.r.values()].filter(row => keep(row.name)).sort(byName);
    rRows.forEach(row => this.body.appendChild(this.rRow(link, row)));
    const pyRows = [...link.python.values()].filter(row => keep(row.name)).sort(byName);
    if (pyRows.length) {
      const section = element('tr', 'rmagic-ext-env-section');
      const cell = element('td', '', 'Python, as R sees it (py$)');
      cell.colSpan = 2;
      section.appendChild(cell);
      this.body.appendChild(section);
      pyRows.forEach(row => this.body.appendChild(this.pythonRow(row)));
    }
  }

  /* Narrow as a side bar is: the name, its summary below it (as RStudio's
   * Value column) and the actions; class, dimensions and size on the right. */
  row(kind, row, shownName, actions) {
    const tr = element('tr', `rmagic-ext-env-row ${kind}`);
    tr.title = `${row.name}: ${row.summary}`;
    const object = element('td', 'rmagic-ext-env-object');
    const bar = element('div', 'rmagic-ext-env-actions');
    bar.append(...actions);
    object.append(element('div', 'rmagic-ext-env-name', shownName), element('div', 'rmagic-ext-env-summary', row.summary),
                  bar);
    const facts = element('td', 'rmagic-ext-env-facts');
    facts.append(element('div', 'rmagic-ext-env-class', row.class), element('div', 'rmagic-ext-env-dims', row.dims),
                 element('div', 'rmagic-ext-env-size', humanSize(row.size)));
    tr.append(object, facts);
    return tr;
  }

  rRow(link, row) {
    const openable = !['promise', 'active', 'error'].includes(row.kind);
    const actions = [];
    if (openable) {
      actions.push(button('Open', `Open ${row.name}`, 'rmagic-ext-action-open', () => this.open(link, row)));
    }
    actions.push(
      button('Pull', 'Pull to Python (as %Rpull does)', 'rmagic-ext-action-pull', () => this.pull(link, row)),
      button('Copy', 'Copy name', 'rmagic-ext-action-copy', () => this.copy(row.name)),
      button('Remove', `Remove ${row.name} from R`, 'rmagic-ext-action-remove', () => this.remove(link, row)));
    const tr = this.row(`rmagic-ext-kind-${row.kind}`, row, row.name, actions);
    tr.dataset.rName = row.name;
    tr.dataset.kind = row.kind;
    if (openable) {
      tr.querySelector('.rmagic-ext-env-name').addEventListener('click', () => this.open(link, row));
      // Double-clicking a row opens it, as in RStudio's and Spyder's viewers
      // (not when the double click lands on one of its buttons).
      tr.addEventListener('dblclick', event => {
        if (!event.target.closest('button')) this.open(link, row);
      });
    }
    return tr;
  }

  pythonRow(row) {
    const tr = this.row('rmagic-ext-env-python', row, `py$${row.name}`,
                        [button('Copy', 'Copy name', 'rmagic-ext-action-copy', () => this.copy(`py$${row.name}`))]);
    tr.dataset.pyName = row.name;
    return tr;
  }

  copy(name) {
    Clipboard.copyToSystem(name);
    this.say(`Copied ${name}`);
  }

  async pull(link, row) {
    try {
      const reply = await link.request({ type: 'pull', name: row.name });
      this.say(`Pulled ${row.name} into Python as ${reply.python_name} (${reply.python_type})`);
    } catch (error) {
      this.say(`Pull ${row.name}: ${error.message}`);
    }
  }

  async remove(link, row) {
    try {
      await link.request({ type: 'remove', name: row.name });
      this.say(`Removed ${row.name}`);
    } catch (error) {
      this.say(`Remove ${row.name}: ${error.message}`);
    }
  }

  open(link, row) {
    const content = row.kind === 'table' ? new TableViewer(link, row)
      : row.kind === 'plot' ? new PlotViewer(link, row) : new TextViewer(link, row);
    const widget = new MainAreaWidget({ content });
    widget.id = `rmagic-ext-view-${++this.viewers}`;
    widget.title.label = `R: ${row.name}`;
    widget.title.icon = rIcon;
    widget.title.closable = true;
    this.app.shell.add(widget, 'main');
    this.app.shell.activateById(widget.id);
  }
}

class Viewer extends Widget {
  constructor(link, row, className) {
    super();
    this.link = link;
    this.row = row;
    this.addClass('rmagic-ext-viewer');
    this.addClass(className);
    this.node.dataset.rName = row.name;
    this.error = element('div', 'rmagic-ext-viewer-error');
    this.node.appendChild(this.error);
  }

  failed(error) {
    this.error.textContent = error.message;
  }
}

class TextViewer extends Viewer {
  constructor(link, row) {
    super(link, row, 'rmagic-ext-text-viewer');
    this.pre = element('pre', 'rmagic-ext-viewer-text');
    this.node.appendChild(this.pre);
    link.request({ type: 'open', name: row.name }).then(reply => {
      this.pre.textContent = reply.text;
    }, error => this.failed(error));
  }
}

class PlotViewer extends Viewer {
  constructor(link, row) {
    super(link, row, 'rmagic-ext-plot-viewer');
    link.request({ type: 'open', name: row.name }).then(reply => {
      const img = element('img', 'rmagic-ext-viewer-plot');
      img.alt = row.name;
      img.src = `data:image/png;base64,${reply.png}`;
      this.node.appendChild(img);
    }, error => this.failed(error));
  }
}

/* A data frame, matrix or tibble, one page at a time, sorted by a column
 * when its heading is clicked (again: the other way). */
class TableViewer extends Viewer {
  constructor(link, row) {
    super(link, row, 'rmagic-ext-table-viewer');
    this.offset = 0;
    this.total = null;
    this.sort = null;
    this.descending = false;
    const bar = element('div', 'rmagic-ext-pager');
    this.first = button('«', 'First page', 'rmagic-ext-page-first', () => this.go(0));
    this.previous = button('‹', 'Previous page', 'rmagic-ext-page-previous', () => this.go(this.offset - PAGE_ROWS));
    this.next = button('›', 'Next page', 'rmagic-ext-page-next', () => this.go(this.offset + PAGE_ROWS));
    this.last = button('»', 'Last page', 'rmagic-ext-page-last',
                       () => this.go(Math.floor((this.total - 1) / PAGE_ROWS) * PAGE_ROWS));
    this.where = element('span', 'rmagic-ext-page-where', 'Loading…');
    bar.append(this.first, this.previous, this.where, this.next, this.last);
    this.table = element('table', 'rmagic-ext-page');
    this.node.append(bar, this.table);
    this.go(0);
  }

  async go(offset) {
    const target = Math.max(0, this.total === null ? offset : Math.min(offset, Math.max(0, this.total - 1)));
    try {
      const page = await this.link.request({
        type: 'page', name: this.row.name, offset: target, limit: PAGE_ROWS,
        sort: this.sort, descending: this.descending
      });
      this.error.textContent = '';
      this.show(page);
    } catch (error) {
      this.failed(error);
    }
  }

  show(page) {
    this.offset = page.offset;
    this.total = page.total;
    this.node.dataset.pageBytes = String(page.bytes);
    this.node.dataset.total = String(page.total);
    const shown = page.rows.length;
    this.where.textContent = shown ? `rows ${(page.offset + 1).toLocaleString()}–` +
      `${(page.offset + shown).toLocaleString()} of ${page.total.toLocaleString()}` : 'no rows';
    this.first.disabled = this.previous.disabled = page.offset === 0;
    this.next.disabled = this.last.disabled = page.offset + shown >= page.total;
    const head = element('thead');
    const titles = element('tr');
    titles.appendChild(element('th', 'rmagic-ext-page-rowname', ''));
    page.columns.forEach((name, j) => {
      const marker = this.sort === j ? (this.descending ? ' ▼' : ' ▲') : '';
      const th = element('th', 'rmagic-ext-page-column', `${name}${marker}`);
      th.title = `${name} (${page.types[j]}): click to sort`;
      th.dataset.column = String(j);
      th.addEventListener('click', () => {
        this.descending = this.sort === j ? !this.descending : false;
        this.sort = j;
        this.go(0);
      });
      titles.appendChild(th);
    });
    head.appendChild(titles);
    const body = element('tbody');
    page.rows.forEach((label, i) => {
      const tr = element('tr');
      tr.appendChild(element('th', 'rmagic-ext-page-rowname', label));
      page.cells.forEach(column => tr.appendChild(element('td', '', column[i])));
      body.appendChild(tr);
    });
    this.table.replaceChildren(head, body);
  }
}
