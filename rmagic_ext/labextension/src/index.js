/*
 * rmagic_ext's JupyterLab extension. Two plugins: the body of a %%R cell and
 * the code of a %R line are highlighted (and bracket-matched, commented,
 * indented) as R; the "R environment" side panel lists the notebook's R
 * objects (environment.js).
 *
 * Two languages are added to JupyterLab's editor language registry, one per
 * stream parser of modes.js. Each code cell of a notebook whose cells are
 * Python gets the MIME type its source needs (cellMimeType), again each
 * time its source changes and each time the notebook sets it back (a kernel
 * change sets every cell's MIME type): turning a cell into %%R switches it
 * to R as one types, removing the magic switches it back.
 */

import { LanguageSupport, StreamLanguage } from '@codemirror/language';
import { ILayoutRestorer } from '@jupyterlab/application';
import { python } from '@codemirror/legacy-modes/mode/python';
import { r } from '@codemirror/legacy-modes/mode/r';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';

import { EnvironmentPanel } from './environment.js';
import {
  R_CELL_MIME, R_LINES_MIME, cellMimeType, pythonWithRLinesParser, rCellParser
} from './modes.js';

function language(name, displayName, mime, parser) {
  const support = new LanguageSupport(StreamLanguage.define(parser));
  return { name, displayName, mime, support, load: async () => support };
}

const watched = new WeakSet();

/* Keep one code cell's MIME type what its source needs. */
function watchCell(notebook, cell) {
  if (cell.type !== 'code' || watched.has(cell)) {
    return;
  }
  watched.add(cell);
  const update = () => {
    const wanted = cellMimeType(cell.sharedModel.getSource(), notebook.codeMimetype);
    if (cell.mimeType !== wanted) {
      cell.mimeType = wanted;
    }
  };
  cell.contentChanged.connect(update);
  cell.mimeTypeChanged.connect(update);
  update();
}

function watchNotebook(panel) {
  const notebook = panel.content;
  const watchModel = () => {
    const model = notebook.model;
    if (!model) {
      return;
    }
    for (let i = 0; i < model.cells.length; i++) {
      watchCell(notebook, model.cells.get(i));
    }
    model.cells.changed.connect((_, change) => {
      if (change.type === 'add') {
        change.newValues.forEach(cell => watchCell(notebook, cell));
      }
    });
  };
  notebook.modelChanged.connect(watchModel);
  watchModel();
}

const plugin = {
  id: 'rmagic-ext:highlight',
  description: 'Highlights the R code of %%R cells and %R lines as R.',
  autoStart: true,
  requires: [IEditorLanguageRegistry, INotebookTracker],
  activate: (app, languages, notebooks) => {
    languages.addLanguage(language('rmagic-r', 'R (%%R cell)', R_CELL_MIME, rCellParser(r)));
    languages.addLanguage(language('rmagic-ipython', 'IPython with %R lines', R_LINES_MIME,
                                   pythonWithRLinesParser(python, r)));
    notebooks.widgetAdded.connect((_, panel) => watchNotebook(panel));
    notebooks.forEach(watchNotebook);
  }
};

const environmentPlugin = {
  id: 'rmagic-ext:r-environment',
  description: 'A side panel listing the R objects of the active notebook\'s kernel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer],
  activate: (app, notebooks, restorer) => {
    const panel = new EnvironmentPanel(app, notebooks);
    app.shell.add(panel, 'right', { rank: 900 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }
  }
};

export default [plugin, environmentPlugin];
